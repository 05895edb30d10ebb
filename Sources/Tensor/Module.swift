// Module Tensor: see ../shared/DESIGN.md (module map).
