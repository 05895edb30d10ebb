// Module NetCDF: see ../shared/DESIGN.md (module map).
