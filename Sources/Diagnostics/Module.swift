// Module Diagnostics: see ../shared/DESIGN.md (module map).
