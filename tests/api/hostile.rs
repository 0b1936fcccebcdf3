//! Hostile files, made by the test: each is answered within seconds (rejected, or
//! read safely), the service's memory stays bounded, and it keeps serving. The
//! reader runs in a child process under an address-space limit, so even a parser
//! that tries to allocate terabytes only ends its child.

use crate::helpers::*;

/// One zip entry as stored: already-compressed bytes with the sizes the header
/// declares (which may lie).
struct Entry<'a> {
    name: &'a str,
    deflated: bool,
    data: Vec<u8>,
    declared_size: u32,
}

fn stored<'a>(name: &'a str, data: &[u8]) -> Entry<'a> {
    Entry {
        name,
        deflated: false,
        data: data.to_vec(),
        declared_size: data.len() as u32,
    }
}

/// A zip file written by hand, so that declared sizes are whatever we say.
fn zip(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let method: u16 = if e.deflated { 8 } else { 0 };
        let crc = if e.deflated { 0 } else { crc32(&e.data) };
        let header = |sig: u32, central_entry: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central_entry {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            for v in [20u16, 0x0800, method, 0, 0x21] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            for v in [crc, e.data.len() as u32, e.declared_size] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            if central_entry {
                for v in [0u16, 0, 0] {
                    h.extend_from_slice(&v.to_le_bytes());
                }
                h.extend_from_slice(&0u32.to_le_bytes());
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(e.name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(&e.data);
        central.extend(header(0x0201_4b50, true));
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, entries.len() as u16, entries.len() as u16] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A raw deflate stream (one fixed-Huffman block): `prefix`, then `run` bytes of
/// 'A' as back-references (13 bits per 258 bytes), then `suffix`.
fn deflate_run(prefix: &[u8], run: u64, suffix: &[u8]) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, v: u64, bits: u32) {
            self.acc |= v << self.n;
            self.n += bits;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        fn huff(&mut self, code: u32, len: u32) {
            let rev = code.reverse_bits() >> (32 - len);
            self.put(u64::from(rev), len);
        }
        fn literal(&mut self, b: u8) {
            if b < 144 {
                self.huff(0x30 + u32::from(b), 8);
            } else {
                self.huff(0x190 + u32::from(b) - 144, 9);
            }
        }
    }
    let mut w = Bits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    w.put(1, 1); // final block
    w.put(1, 2); // fixed Huffman
    for &b in prefix {
        w.literal(b);
    }
    if run > 0 {
        w.literal(b'A');
        let mut left = run - 1;
        while left >= 258 {
            w.huff(0xC0 + 5, 8); // length 258
            w.huff(0, 5); // distance 1
            left -= 258;
        }
        for _ in 0..left {
            w.literal(b'A');
        }
    }
    for &b in suffix {
        w.literal(b);
    }
    w.huff(0, 7); // end of block
    if w.n > 0 {
        w.out.push(w.acc as u8);
    }
    w.out
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="基层工会情况" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WB_RELS: &str = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
const SST: &str = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3"><si><t>单位代码</t></si><si><t>会员人数</t></si><si><t>职工人数</t></si></sst>"#;
const NS: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main""#;

fn sheet(extra_rows: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><worksheet {NS}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>330102001001</t></is></c><c r="B2"><v>90</v></c><c r="C2"><v>100</v></c></row>{extra_rows}</sheetData></worksheet>"#
    )
}

/// A minimal xlsx with the given sheet and shared-strings entries.
fn xlsx(sheet1: Entry<'_>, shared: Entry<'_>) -> Vec<u8> {
    zip(&[
        stored("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        stored("_rels/.rels", RELS.as_bytes()),
        stored("xl/workbook.xml", WORKBOOK.as_bytes()),
        stored("xl/_rels/workbook.xml.rels", WB_RELS.as_bytes()),
        sheet1,
        shared,
    ])
}

/// A workbook whose one shared string inflates to `len` bytes of 'A' from a
/// few KB, its size declared honestly (so only reading it shows how large it is).
pub(crate) fn long_shared_string(len: u64) -> Vec<u8> {
    let head = SST.replace("</sst>", "<si><t>");
    let data = deflate_run(head.as_bytes(), len, b"</t></si></sst>");
    let declared = (head.len() as u64 + len + 15) as u32;
    xlsx(
        Entry {
            name: "xl/worksheets/sheet1.xml",
            deflated: false,
            declared_size: sheet("").len() as u32,
            data: sheet("").into_bytes(),
        },
        Entry {
            name: "xl/sharedStrings.xml",
            deflated: true,
            data,
            declared_size: declared,
        },
    )
}

/// Peak resident memory of this process (the service runs in it), in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

async fn answered(app: &TestApp, name: &str, bytes: Vec<u8>) -> serde_json::Value {
    assert!(
        bytes.len() < 20 * 1024 * 1024,
        "{name}: the file itself must fit the upload limit"
    );
    let started = std::time::Instant::now();
    let sub = app.submit(bytes, "330102001", "2026-10").await;
    let secs = started.elapsed().as_secs_f64();
    assert!(secs < 15.0, "{name}: answered after {secs:.1} s");
    let rules: Vec<&str> = sub["issues"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["rule"].as_str()).collect())
        .unwrap_or_default();
    eprintln!(
        "{name}: {} in {secs:.1} s, attempts {}, rules {rules:?},",
        sub["status"], sub["attempts"]
    );
    let (status, _) = app.get(&app.admin_key, "/healthz").await;
    assert_eq!(status, 200, "{name}: the service stopped answering");
    sub
}

fn rejected_with(sub: &serde_json::Value, rules: &[&str], name: &str) {
    assert_eq!(sub["status"], "rejected", "{name}: {sub}");
    assert!(
        rules.iter().any(|r| issue(sub, r).is_some()),
        "{name}: expected one of {rules:?}: {sub}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_workbooks_are_answered_quickly_and_the_service_survives() {
    let app = spawn_app().await;
    let plain = |name: &'static str, text: String| Entry {
        name,
        deflated: false,
        declared_size: text.len() as u32,
        data: text.into_bytes(),
    };

    // 1. sharedStrings declaring 10^11 unique strings (a calamine abort).
    let bomb = SST.replace(r#"uniqueCount="3""#, r#"uniqueCount="100000000000""#);
    let sub = answered(
        &app,
        "uniqueCount",
        xlsx(
            plain("xl/worksheets/sheet1.xml", sheet("")),
            plain("xl/sharedStrings.xml", bomb),
        ),
    )
    .await;
    rejected_with(&sub, &["too_large", "unreadable"], "uniqueCount");

    // 2. Cells at A1 and XFD1048576 (a dense range of 10^10 cells).
    let far = sheet(r#"<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#).replace(
        "<sheetData>",
        r#"<dimension ref="A1:XFD1048576"/><sheetData>"#,
    );
    let sub = answered(
        &app,
        "far cells",
        xlsx(
            plain("xl/worksheets/sheet1.xml", far),
            plain("xl/sharedStrings.xml", SST.to_string()),
        ),
    )
    .await;
    rejected_with(&sub, &["too_large"], "far cells");

    // 3. A 400 MB shared string in a file of a few MB, size declared honestly…
    let head = SST.replace("</sst>", "<si><t>");
    let big_string = deflate_run(head.as_bytes(), 400 << 20, b"</t></si></sst>");
    let shared = |declared: u32| Entry {
        name: "xl/sharedStrings.xml",
        deflated: true,
        data: big_string.clone(),
        declared_size: declared,
    };
    let sub = answered(
        &app,
        "400 MB string",
        xlsx(
            plain("xl/worksheets/sheet1.xml", sheet("")),
            shared((400 << 20) + 200),
        ),
    )
    .await;
    rejected_with(&sub, &["too_large"], "400 MB string");
    // …and with a header that lies (declares 1 KB): read through the limit.
    let sub = answered(
        &app,
        "400 MB string, lying",
        xlsx(plain("xl/worksheets/sheet1.xml", sheet("")), shared(1024)),
    )
    .await;
    rejected_with(&sub, &["too_large", "unreadable"], "400 MB string, lying");

    // 4. A sheet inflating to 2 GB from about 13 MB, honest and lying.
    let prefix = format!(
        r#"<?xml version="1.0"?><worksheet {NS}><sheetData><row r="3"><c r="A3" t="inlineStr"><is><t>"#
    );
    let two_gb = deflate_run(
        prefix.as_bytes(),
        2 << 30,
        b"</t></is></c></row></sheetData></worksheet>",
    );
    let sheet_entry = |declared: u32| Entry {
        name: "xl/worksheets/sheet1.xml",
        deflated: true,
        data: two_gb.clone(),
        declared_size: declared,
    };
    let sub = answered(
        &app,
        "2 GB sheet",
        xlsx(
            sheet_entry(u32::MAX),
            plain("xl/sharedStrings.xml", SST.to_string()),
        ),
    )
    .await;
    rejected_with(&sub, &["too_large"], "2 GB sheet");
    let sub = answered(
        &app,
        "2 GB sheet, lying",
        xlsx(
            sheet_entry(4096),
            plain("xl/sharedStrings.xml", SST.to_string()),
        ),
    )
    .await;
    rejected_with(&sub, &["too_large", "unreadable"], "2 GB sheet, lying");

    // 5. Entity expansion (a billion laughs) in the shared strings.
    let mut doctype = String::from(r#"<!DOCTYPE sst [<!ENTITY l0 "ha">"#);
    for i in 1..10 {
        let prev = format!("&l{};", i - 1).repeat(10);
        doctype.push_str(&format!(r#"<!ENTITY l{i} "{prev}">"#));
    }
    doctype.push(']');
    doctype.push('>');
    let laughs = SST
        .replace("<sst ", &format!("{doctype}<sst "))
        .replace("<t>职工人数</t>", "<t>&l9;</t>");
    let sub = answered(
        &app,
        "billion laughs",
        xlsx(
            plain("xl/worksheets/sheet1.xml", sheet("")),
            plain("xl/sharedStrings.xml", laughs),
        ),
    )
    .await;
    let text = sub.to_string();
    assert!(
        !text.contains("hahahahaha"),
        "entities must not be expanded: {}",
        &text[..text.len().min(500)]
    );

    // 6. An external entity: nothing of the machine's files may come back.
    let xxe = SST
        .replace(
            "<sst ",
            r#"<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><sst "#,
        )
        .replace("<t>职工人数</t>", "<t>&xxe;</t>");
    let sub = answered(
        &app,
        "external entity",
        xlsx(
            plain("xl/worksheets/sheet1.xml", sheet("")),
            plain("xl/sharedStrings.xml", xxe),
        ),
    )
    .await;
    assert!(!sub.to_string().contains("root:"), "{sub}");

    // The service is fine: a good workbook still goes through, and its memory
    // never came near the size of what the hostile files tried to allocate.
    let sub = app.submit(town_a_sheet(), "330102001", "2026-10").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let peak = peak_rss_mib();
    assert!(peak < 1024, "peak RSS of the service process {peak} MiB");
    app.stop().await;
}

postgres_twins!(hostile_workbooks_are_answered_quickly_and_the_service_survives,);
