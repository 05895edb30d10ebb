// Module Simulator: see ../shared/DESIGN.md (module map).
