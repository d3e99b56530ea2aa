"""DFM workbench for FreeCAD: a thin shell over dfm.api (see dfm_bridge)."""
