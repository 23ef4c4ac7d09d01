"""The parts of the main window, one job each; ``gui/mainwindow.py`` puts them together.

``panes`` makes the widgets, ``pages`` switches between the welcome and the
capture page, ``menus`` builds menus and toolbar from the action table, and
``memory`` restores and saves the layout.  The controllers hold the window's
logic and wire their own widgets: ``capture`` (opening and closing),
``selection`` (the current session and monologue), ``detail`` (the hex and
text views), ``finding``, ``filter_box``, ``plots_dock`` and ``export_flow``.
"""
