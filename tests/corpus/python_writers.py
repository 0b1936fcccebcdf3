"""The messy Template v1 sheet of tests/api/corpus.rs, written by Python's
openpyxl and XlsxWriter as other tools and scripts produce workbooks.

usage: python3 python_writers.py OUT_DIR   (writes openpyxl.xlsx, xlsxwriter.xlsx)
"""
import datetime
import os
import sys

HEADER = [
    "会员人数\n(人)", "单位名称", "单位代码", "职工人数（人）", "应建会单位数",
    "已建会\n单位数", "备注说明列", "在档困难职工人数", "全国级困难职工人数",
    "省级困难职工人数", "市县级困难职工人数",
]
ROWS = [
    ["99,000", "甲公司工会", "330102001001", "100,000", 20, 19, "无", 38, 8, 16, 14],
    [59500, "乙公司工会", "330102001002", "6万", "15", 14, None, None, None, None, None],
    ["３７５００", "丙公司工会", "330102001003", " 38000 ", 6, "6", None, None, None, None, None],
]
TOTAL = [196000, None, "合计", 198000, 41, 39, None, 38, 8, 16, 14]
NOTE = "填表说明：1. 本表按月报送；2. 人数填整数。"
TITLE = "2026年10月基层工会统计月报表"


def with_openpyxl(path):
    import openpyxl

    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "封面"
    cover["A1"], cover["B1"] = "报送单位代码：", "330102001"
    cover["A2"], cover["B2"] = "报告期", datetime.date(2026, 10, 31)
    cover["B2"].number_format = "yyyy-mm-dd"
    cover["A3"], cover["B3"] = "填报人", "李四"
    ws = wb.create_sheet("基层工会情况")
    ws["A1"] = TITLE
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=11)
    ws["A2"] = "填报单位：湖滨街道总工会"
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    ws.append([])
    ws.append(TOTAL)
    ws.append([])
    ws.append([NOTE])
    wb.save(path)


def with_xlsxwriter(path):
    import xlsxwriter

    wb = xlsxwriter.Workbook(path)
    cover = wb.add_worksheet("封面")
    cover.write_string(0, 0, "报送单位代码：")
    cover.write_string(0, 1, "330102001")
    cover.write_string(1, 0, "报告期")
    cover.write_datetime(1, 1, datetime.datetime(2026, 10, 31), wb.add_format({"num_format": "yyyy-mm-dd"}))
    cover.write_string(2, 0, "填报人")
    cover.write_string(2, 1, "李四")
    ws = wb.add_worksheet("基层工会情况")
    ws.merge_range(0, 0, 0, 10, TITLE)
    ws.write_string(1, 0, "填报单位：湖滨街道总工会")
    ws.write_row(2, 0, HEADER)
    for r, row in enumerate(ROWS, start=3):
        for c, v in enumerate(row):
            if isinstance(v, str):
                ws.write_string(r, c, v)
            elif v is not None:
                ws.write_number(r, c, v)
    # The total row: typed where the column holds text numbers (a SUM in Excel
    # would skip them), SUM formulas with their cached values where it does not.
    ws.write_string(7, 2, "合计")
    for c, v in enumerate(TOTAL):
        if not isinstance(v, int):
            continue
        if all(row[c] is None or isinstance(row[c], int) for row in ROWS):
            col = xlsxwriter.utility.xl_col_to_name(c)
            ws.write_formula(7, c, f"=SUM({col}4:{col}6)", None, v)
        else:
            ws.write_number(7, c, v)
    ws.write_string(9, 0, NOTE)
    wb.close()


if __name__ == "__main__":
    out = sys.argv[1]
    with_openpyxl(os.path.join(out, "openpyxl.xlsx"))
    with_xlsxwriter(os.path.join(out, "xlsxwriter.xlsx"))
