use super::{ReadLimits, Workbook};
use crate::catalog::Catalog;

/// Reads Template v1 from the bytes of an upload.
pub fn read_workbook(_bytes: &[u8], catalog: &Catalog, _limits: &ReadLimits) -> Workbook {
    Workbook::unreadable(catalog, "reader not implemented")
}
