// Module Models: see ../shared/DESIGN.md (module map).
