// Module Climate: see ../shared/DESIGN.md (module map).
