# DFM workbench (App side). Nothing to register without the GUI: headless users import
# the bridge themselves:
#
#     from dfm_workbench import dfm_bridge
#     dfm_bridge.configure_path()          # DFM_PYTHONPATH or the DFM preference "PythonPath"
#     outcome = dfm_bridge.check(obj.Shape, obj.Label)
#
# dfm's environment is put on sys.path only when the workbench is used, never at start-up,
# so that other workbenches keep FreeCAD's own numpy/pyparsing until then.
