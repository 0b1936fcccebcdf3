//! Files people send that are not the template, built byte by byte: shared by the
//! reader's unit tests and the service's integration tests (tests/api, by path),
//! so both judge the very same bytes. Test data only: std and zip.

use std::io::{Cursor, Read, Write};

/// An OLE compound file holding an encrypted package: a password-protected xlsx.
pub fn password_protected() -> Vec<u8> {
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    bytes.resize(512, 0);
    bytes.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    bytes.resize(2048, 0);
    bytes
}

/// A BIFF2–4 record stream as Excel 2.x–4.0 wrote it: a BOF record of `version`
/// (0x0009, 0x0209, 0x0409), one number cell, EOF.
pub fn old_biff(version: u16) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(version.to_le_bytes());
    b.extend(6u16.to_le_bytes());
    b.extend([0x00, 0x00, 0x10, 0x00, 0x00, 0x00]);
    b.extend([0x03, 0x00, 0x0F, 0x00]); // NUMBER, 15 bytes
    b.extend([0u8; 15]);
    b.extend([0x0A, 0x00, 0x00, 0x00]); // EOF
    b
}

/// A zip package of the given parts.
pub fn zip_of<'a>(entries: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in entries {
        w.start_file(name, opts).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Rewrites one part of a zip package.
pub fn rewrite(bytes: &[u8], part: &str, edit: impl Fn(&str) -> String) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut body = Vec::new();
        f.read_to_end(&mut body).unwrap();
        let name = f.name().unwrap().to_string();
        if name == part {
            body = edit(std::str::from_utf8(&body).unwrap()).into_bytes();
        }
        entries.push((name, body));
    }
    zip_of(entries.iter().map(|(n, b)| (n.as_str(), b.as_slice())))
}

/// Adds an Excel 4.0 macro sheet, an international macro sheet and a dialog
/// sheet to an xlsx, as Excel writes them: a sheet entry in workbook.xml and a
/// relationship of its type.
pub fn with_macro_and_dialog_sheets(bytes: &[u8]) -> Vec<u8> {
    let bytes = rewrite(bytes, "xl/workbook.xml", |xml| {
        xml.replace(
            "</sheets>",
            r#"<sheet name="Macro1" sheetId="90" r:id="rId90"/><sheet name="Dialog1" sheetId="91" r:id="rId91"/><sheet name="Intl1" sheetId="92" r:id="rId92"/></sheets>"#,
        )
    });
    rewrite(&bytes, "xl/_rels/workbook.xml.rels", |xml| {
        xml.replace(
            "</Relationships>",
            r#"<Relationship Id="rId90" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.xml"/><Relationship Id="rId91" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/dialogsheet" Target="dialogsheets/sheet1.xml"/><Relationship Id="rId92" Type="http://schemas.microsoft.com/office/2006/relationships/xlIntlMacrosheet" Target="macrosheets/intl1.xml"/></Relationships>"#,
        )
    })
}
