"""The Qt-free core: capture reading, reassembly, events, export, statistics.

The GUI and the command line both drive it through ``analyse.Analysis``; it
never imports Qt (an import-linter contract and a test keep it so).
"""
