# DFM workbench: design-for-manufacturability checks of micro-milled parts, by dfm.
# FreeCAD 0.20 runs this file in a way that hides module-level names from the Workbench
# methods, so everything real lives in dfm_workbench/ and is imported inside Initialize().


class DfmWorkbench(Workbench):  # noqa: F821 - Workbench is predefined by FreeCAD
    MenuText = "DFM"
    ToolTip = "Design-for-manufacturability checks for micro-milled parts (dfm)"

    def __init__(self):
        import os

        import FreeCAD

        for base in (FreeCAD.getUserAppDataDir() + "Mod", FreeCAD.getResourceDir() + "Mod"):
            for name in os.listdir(base) if os.path.isdir(base) else ():
                icon = os.path.join(base, name, "Resources", "icons", "dfm_workbench.svg")
                if os.path.isfile(os.path.join(base, name, "dfm_workbench", "gui.py")) and os.path.isfile(icon):
                    self.__class__.Icon = icon
                    return

    def Initialize(self):
        from dfm_workbench import gui

        gui.register()
        self.appendToolbar("DFM", gui.COMMANDS)
        self.appendMenu("&DFM", gui.COMMANDS)

    def Activated(self):
        from dfm_workbench import gui

        gui.activated()

    def Deactivated(self):
        pass

    def GetClassName(self):
        return "Gui::PythonWorkbench"


Gui.addWorkbench(DfmWorkbench())  # noqa: F821 - Gui is predefined by FreeCAD
