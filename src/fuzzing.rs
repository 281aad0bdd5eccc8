//! Entry points shared by the fuzz targets in `fuzz/` and the corpus replay test, so both
//! run exactly the same code. Not part of the public API.
