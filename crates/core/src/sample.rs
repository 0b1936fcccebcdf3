//! Synthetic federations and Template v1 workbooks, for `unionstat demo`, tests and
//! benchmarks.
