// unionstat web page: sign in with a login and password, upload workbooks and
// read their per-cell reports, browse the roll-ups of the user's subtree.
// Plain script, no dependencies; everything it fetches is under /api/v1.
// The session is an HttpOnly cookie the script never sees; the script keeps only
// the session's CSRF token, in memory, and sends it with every write.
'use strict';

(function () {
  // ---------------------------------------------------------------- strings
  const I18N = {
    zh: {
      skip: '跳到正文',
      title: '工会统计月报',
      period: '报告期',
      'period.prev': '上个月',
      'period.next': '下个月',
      signout: '退出',
      'signin.title': '登录',
      'signin.login': '登录名',
      'signin.password': '密码',
      'signin.submit': '登录',
      'signin.hint': '账号由管理员开设；忘记密码请找管理员重置。',
      'signin.empty': '请输入登录名和密码。',
      'signin.bad': '登录名或密码不正确。',
      'signin.throttled': '登录失败次数过多，请{wait}后再试。',
      'signin.expired': '会话已过期，请重新登录。',
      'signin.ended': '登录已失效，请重新登录。',
      'signin.out': '已退出。',
      'signout.failed': '未能退出：{error}',
      'wait.seconds': '等 {n} 秒',
      'wait.minutes': '等 {n} 分钟',
      'wait.moment': '稍等片刻',
      who: '{person} · {org}（{code}）· {role}',
      'who.label': '当前用户',
      'role.submitter': '上报',
      'role.viewer': '查看',
      'role.admin': '管理员',
      tabs: '功能',
      'tab.upload': '上报',
      'tab.rollups': '汇总',
      'upload.title': '上报月报工作簿',
      'upload.viewer': '此账号只能查看，不能上报。',
      'upload.reporter': '报送单位代码',
      'upload.reporter.hint': '留空则按工作簿封面所填单位。',
      'upload.template.label': '空白模板',
      'upload.template': '下载空白模板',
      'upload.template.need': '请先填写报送单位代码和报告期。',
      'upload.dryrun': '仅检查，不保存',
      'upload.nil': '零报告（本月确无数据）',
      'contact.title': '联系人',
      'contact.hint': '上面所填报送单位（留空则本单位）的填报人、联系电话和电子邮箱；催报邮件发往该邮箱。封面留空不会清除已有联系人。',
      'contact.name': '填报人',
      'contact.phone': '联系电话',
      'contact.email': '电子邮箱',
      'contact.load': '读取',
      'contact.save': '保存',
      'contact.of': '{name}（{code}）的联系人',
      'contact.saved': '已保存 {code} 的联系人。',
      'upload.drop': '把工作簿拖到这里，或点此选择文件',
      'upload.formats': '.xlsx、.xls、.xlsb、.ods 或 .csv',
      'upload.period.bad': '报告期应为“年-月”，例如 2026-10。',
      'entry.title': '网页填报',
      'entry.hint': '没有 Excel 也能报送：为上面所填报送单位（留空则本单位）在所选报告期逐个单位填写数字，边填边检查；提交后与上传工作簿一样校验、保存和审核。',
      'entry.open': '打开填报表',
      'entry.unit': '基层工会',
      'entry.col.code': '单位代码',
      'entry.col.name': '单位名称',
      'entry.submit': '提交',
      'entry.head': '{name}（{code}）{period} · {units} 个基层工会',
      'entry.checking': '正在检查…',
      'entry.ok': '检查通过：提交后会被接受。',
      'entry.bad': '检查未通过：{errors} 个错误，{warnings} 个提醒。请按标红的格子修改。',
      'entry.warn': '可以提交：{warnings} 个提醒。',
      'entry.previous': '上月 {value}',
      'entry.number': '请填写数字',
      'entry.none': '本单位本月没有下属基层工会可填。',
      'entry.viewer': '此账号只能查看，不能提交。',
      'uploads.title': '本次上报',
      'uploads.empty': '还没有上报。',
      'uploads.sending': '正在上传…',
      'uploads.duplicate': '同一文件此前已上报，显示的是那次的结果。',
      'uploads.dry': '仅检查：未保存。',
      'uploads.dry.accepted': '检查通过：上报后会被接受',
      'uploads.dry.rejected': '检查未通过：上报后会被退回',
      'uploads.counts': '{errors} 个错误，{warnings} 个提醒',
      'uploads.rows': '读取 {rows} 行',
      'uploads.annotated': '下载标注问题的工作簿',
      'uploads.noissues': '没有发现问题。',
      'uploads.more': '另有 {n} 条未列出，请下载标注问题的工作簿查看全部。',
      'uploads.remove': '从列表中移除',
      'status.received': '已接收，排队中',
      'status.processing': '正在检查',
      'status.accepted': '已接受',
      'status.rejected': '已退回',
      'status.superseded': '已被更新的上报替代',
      'sev.error': '错误',
      'sev.warning': '提醒',
      'issue.cell': '位置',
      'issue.value': '填写值',
      'issue.message': '说明',
      'issue.unit': '单位',
      'rule.count': '{n} 处',
      export: '下载汇总表',
      'tree.label': '组织树',
      'tree.as_reported': '按当月组织树',
      'tree.current': '按现行组织树重述',
      'tree.differs': '{month} 以来组织树有调整：本级调入 {in} 个基层工会，调出 {out} 个。',
      'export.missing': '此服务尚未提供汇总表导出。',
      crumbs: '层级',
      'children.title': '下级单位',
      'span.label': '汇总期',
      'span.month': '月',
      'span.quarter': '季度',
      'span.year': '年',
      'span.sy': '统计年度',
      'span.shown': '汇总期 {period}（{kind}）；报送情况为 {month}',
      'span.kind.month': '月',
      'span.kind.quarter': '季度',
      'span.kind.year': '年度',
      'span.kind.stat_year': '统计年度',
      'form.title': '报表的数字',
      'form.label': '报表',
      'form.monthly': '基层工会情况月报',
      'form.annual_survey': '工会统计年报',
      'form.service_half': '服务职工半年报',
      'form.metric': '指标项',
      'form.total': '合计',
      'form.units': '填报的基层单位',
      'form.monthly_hint': '月报的数字见上方各表；选择其他报表查看其报告期的合计。',
      'form.shown': '报告期 {period}：{reported}/{expected} 个应报单位已报送',
      'form.empty': '本报告期尚无数字。',
      'figures.title': '下级单位的数字',
      'figures.hint': '各比率的分子和分母。点列标题排序；合计行是本级的数字。',
      'figures.total': '合计（本级）',
      'fig.enterprises_required': '应建会单位数',
      'fig.unions_established': '已建会单位数',
      'fig.employees': '职工人数',
      'fig.members': '会员人数',
      'fig.expected_reporters': '应报单位',
      'fig.reported_reporters': '已报单位',
      'fig.sort': '按“{col}”排序',
      'series.axis': '纵轴从 0 起。',
      'children.empty': '没有下级单位。',
      'col.unit': '单位',
      'col.unionisation': '建会率',
      'col.membership': '入会率',
      'col.coverage': '覆盖',
      'col.reporting': '报送',
      'col.reporter': '报送单位',
      'col.status': '状态',
      'col.contact': '联系人',
      'legend.ok': '齐全',
      'legend.partial': '部分',
      'legend.bad': '缺报',
      'legend.na': '不适用',
      'ind.unionisation_rate': '建会率',
      'ind.membership_rate': '入会率',
      'ind.reporting_rate': '报送率',
      'tile.coverage': '覆盖单位',
      'tile.units': '{reported} / {expected} 个基层工会',
      'tile.reporters': '{reported} / {expected} 个报送单位',
      'tile.of': '{num} / {den}',
      'comp.summary': '应报 {expected}：按时 {on_time}，逾期 {late}，处理中 {pending}，被退回 {rejected}，审核退回 {returned}，未报 {missing}（截止 {deadline}）',
      'comp.none': '此单位下没有需要报送的单位。',
      'comp.on_time': '按时',
      'comp.late': '逾期',
      'comp.pending': '处理中',
      'comp.rejected': '被退回',
      'comp.missing': '未报送',
      'comp.count': '{reported}/{expected}',
      'missing.title': '未按时报送',
      'missing.empty': '没有。',
      'missing.more': '另有 {n} 个未列出。',
      drill: '查看 {name} 的下级',
      'series.title': '月度走势',
      'series.indicator': '指标',
      'series.months': '{from} 至 {to}',
      'series.fallback': '按月逐一查询得出。',
      'series.empty': '这段时间没有数据。',
      'series.failed': '走势暂时无法显示。',
      'series.aria': '{indicator}，{from} 至 {to}',
      'series.partial': '橙色虚线点：该月报送的基层工会不足 {share}，数据不完整。',
      'series.partialPoint': '部分报送：{units} 个基层工会',
      'cmp.mom': '环比',
      'cmp.yoy': '同比',
      'cmp.points': '{v} 个百分点',
      'cmp.differs': '口径不同',
      'cmp.title': '{label}：对比 {period}',
      'partial.mark': '部分',
      'partial.title': '部分报送，以下数字不代表全部下级：',
      'err.401': '登录已失效，请重新登录。',
      'err.403': '你的账号无权进行该操作。',
      'err.404': '没有找到。',
      'err.409': '结果尚未出来，请稍候。',
      'err.413': '文件太大。',
      'err.422': '请求有误：{message}',
      'err.429': '请求太频繁，请{wait}后再试。',
      'err.other': '服务出错（{status}），请稍后重试。',
      'err.network': '无法连接服务，请检查网络。',
      loading: '正在加载…',
      downloaded: '已下载 {name}',
      none: '—',
    },
    en: {
      skip: 'Skip to content',
      title: 'Trade union monthly statistics',
      period: 'Period',
      'period.prev': 'Previous month',
      'period.next': 'Next month',
      signout: 'Sign out',
      'signin.title': 'Sign in',
      'signin.login': 'Login',
      'signin.password': 'Password',
      'signin.submit': 'Sign in',
      'signin.hint': 'Accounts are opened by an administrator; ask one to reset a forgotten password.',
      'signin.empty': 'Enter your login and password.',
      'signin.bad': 'The login or the password is wrong.',
      'signin.throttled': 'Too many failed sign-ins; {wait} and try again.',
      'signin.expired': 'Your session has expired; sign in again.',
      'signin.ended': 'You are no longer signed in; sign in again.',
      'signin.out': 'Signed out.',
      'signout.failed': 'Could not sign out: {error}',
      'wait.seconds': 'wait {n} seconds',
      'wait.minutes': 'wait {n} minutes',
      'wait.moment': 'wait a moment',
      who: '{person} · {org} ({code}) · {role}',
      'who.label': 'Signed in',
      'role.submitter': 'submitter',
      'role.viewer': 'viewer',
      'role.admin': 'admin',
      tabs: 'Sections',
      'tab.upload': 'Upload',
      'tab.rollups': 'Roll-ups',
      'upload.title': 'Upload a monthly workbook',
      'upload.viewer': 'This account can read but not upload.',
      'upload.reporter': 'Reporter code',
      'upload.reporter.hint': 'Leave empty to take the reporter from the workbook’s cover.',
      'upload.template.label': 'Blank template',
      'upload.template': 'Download blank template',
      'upload.template.need': 'Fill in the reporter code and the period first.',
      'upload.dryrun': 'Check only, do not store',
      'upload.nil': 'Nil report (nothing to report this month)',
      'contact.title': 'Contact',
      'contact.hint': 'Who fills in the reports of the reporter above (empty: your own unit), with phone and email; reminders go to that email. A blank cover never erases a known contact.',
      'contact.name': 'Preparer',
      'contact.phone': 'Phone',
      'contact.email': 'Email',
      'contact.load': 'Load',
      'contact.save': 'Save',
      'contact.of': 'Contact of {name} ({code})',
      'contact.saved': 'Contact of {code} saved.',
      'upload.drop': 'Drop workbooks here, or click to choose files',
      'upload.formats': '.xlsx, .xls, .xlsb, .ods or .csv',
      'upload.period.bad': 'The period is year-month, e.g. 2026-10.',
      'entry.title': 'Enter figures',
      'entry.hint': 'No Excel needed: enter the figures of each unit of the reporter above (empty: your own unit) for the chosen month, checked as you type; submitted, they are validated, kept and reviewed as an uploaded workbook is.',
      'entry.open': 'Open the form',
      'entry.unit': 'Grassroots union',
      'entry.col.code': 'Unit code',
      'entry.col.name': 'Unit name',
      'entry.submit': 'Submit',
      'entry.head': '{name} ({code}) {period} · {units} grassroots unions',
      'entry.checking': 'Checking…',
      'entry.ok': 'Checked: it would be accepted.',
      'entry.bad': 'Not yet: {errors} errors, {warnings} warnings. Fix the cells marked red.',
      'entry.warn': 'It can be submitted: {warnings} warnings.',
      'entry.previous': 'last month {value}',
      'entry.number': 'Enter a number',
      'entry.none': 'The reporter has no grassroots unions to enter this month.',
      'entry.viewer': 'This account can only view; it cannot submit.',
      'uploads.title': 'Uploads in this session',
      'uploads.empty': 'Nothing uploaded yet.',
      'uploads.sending': 'Uploading…',
      'uploads.duplicate': 'The same file was uploaded before; this is that upload’s result.',
      'uploads.dry': 'Check only: nothing stored.',
      'uploads.dry.accepted': 'Check passed: the upload would be accepted',
      'uploads.dry.rejected': 'Check failed: the upload would be rejected',
      'uploads.counts': '{errors} errors, {warnings} warnings',
      'uploads.rows': '{rows} rows read',
      'uploads.annotated': 'Download the workbook with the issues marked',
      'uploads.noissues': 'No issues found.',
      'uploads.more': '{n} more not listed; download the marked workbook to see them all.',
      'uploads.remove': 'Remove from the list',
      'status.received': 'Received, queued',
      'status.processing': 'Checking',
      'status.accepted': 'Accepted',
      'status.rejected': 'Rejected',
      'status.superseded': 'Superseded by a later upload',
      'sev.error': 'error',
      'sev.warning': 'warning',
      'issue.cell': 'Cell',
      'issue.value': 'Value',
      'issue.message': 'What to fix',
      'issue.unit': 'Unit',
      'rule.count': '{n}×',
      export: 'Download roll-up workbook',
      'tree.label': 'Tree',
      'tree.as_reported': 'As reported (each month\'s tree)',
      'tree.current': 'Restated under today\'s tree',
      'tree.differs': 'The tree changed since {month}: {in} grassroots unit(s) moved in here, {out} moved out.',
      'export.missing': 'This server does not offer the roll-up workbook yet.',
      crumbs: 'Hierarchy',
      'children.title': 'Units below',
      'span.label': 'Roll-up over',
      'span.month': 'Month',
      'span.quarter': 'Quarter',
      'span.year': 'Year',
      'span.sy': 'Statistical year',
      'span.shown': 'Figures for {period} ({kind}); reporting for {month}',
      'span.kind.month': 'month',
      'span.kind.quarter': 'quarter',
      'span.kind.year': 'year',
      'span.kind.stat_year': 'statistical year',
      'form.title': 'Figures of a form',
      'form.label': 'Form',
      'form.monthly': 'Monthly return',
      'form.annual_survey': 'Annual survey',
      'form.service_half': 'Half-yearly service report',
      'form.metric': 'Metric',
      'form.total': 'Total',
      'form.units': 'Units reporting',
      'form.monthly_hint': 'The monthly figures are in the tables above; pick another form to see its totals for its period.',
      'form.shown': 'Period {period}: {reported} of {expected} expected reporters sent it',
      'form.empty': 'No figures for this period yet.',
      'figures.title': 'Figures of the units below',
      'figures.hint': 'The numerator and denominator of each rate. Click a column heading to sort; the totals row holds this unit\'s own figures.',
      'figures.total': 'Total (this unit)',
      'fig.enterprises_required': 'Should unionise',
      'fig.unions_established': 'Unionised',
      'fig.employees': 'Employees',
      'fig.members': 'Members',
      'fig.expected_reporters': 'Reporters expected',
      'fig.reported_reporters': 'Reporters reported',
      'fig.sort': 'Sort by “{col}”',
      'series.axis': 'The axis starts at 0.',
      'children.empty': 'No units below.',
      'col.unit': 'Unit',
      'col.unionisation': 'Unionisation',
      'col.membership': 'Membership',
      'col.coverage': 'Coverage',
      'col.reporting': 'Reporting',
      'col.reporter': 'Reporter',
      'col.status': 'Status',
      'col.contact': 'Contact',
      'legend.ok': 'complete',
      'legend.partial': 'partial',
      'legend.bad': 'missing',
      'legend.na': 'n/a',
      'ind.unionisation_rate': 'Unionisation rate',
      'ind.membership_rate': 'Membership rate',
      'ind.reporting_rate': 'Reporting rate',
      'tile.coverage': 'Coverage',
      'tile.units': '{reported} / {expected} grassroots unions',
      'tile.reporters': '{reported} / {expected} reporters',
      'tile.of': '{num} / {den}',
      'comp.summary': '{expected} expected: {on_time} on time, {late} late, {pending} pending, {rejected} rejected, {returned} returned in review, {missing} missing (due {deadline})',
      'comp.none': 'No unit under this one has to report.',
      'comp.on_time': 'on time',
      'comp.late': 'late',
      'comp.pending': 'pending',
      'comp.rejected': 'rejected',
      'comp.missing': 'missing',
      'comp.count': '{reported}/{expected}',
      'missing.title': 'Not reported on time',
      'missing.empty': 'None.',
      'missing.more': '{n} more not listed.',
      drill: 'Show the units below {name}',
      'series.title': 'Monthly series',
      'series.indicator': 'Indicator',
      'series.months': '{from} to {to}',
      'series.fallback': 'Built month by month.',
      'series.empty': 'No figures in this range.',
      'series.failed': 'The series cannot be shown right now.',
      'series.aria': '{indicator}, {from} to {to}',
      'series.partial': 'Dashed orange points: fewer than {share} of units reported that month; the figure is incomplete.',
      'series.partialPoint': 'partial: {units} units reported',
      'cmp.mom': 'MoM',
      'cmp.yoy': 'YoY',
      'cmp.points': '{v} pts',
      'cmp.differs': 'coverage differs',
      'cmp.title': '{label}: against {period}',
      'partial.mark': 'partial',
      'partial.title': 'Partial coverage; these figures are not the whole subtree\'s:',
      'err.401': 'You are no longer signed in; sign in again.',
      'err.403': 'Your account may not do that.',
      'err.404': 'Not found.',
      'err.409': 'The result is not ready yet; try again shortly.',
      'err.413': 'The file is too large.',
      'err.422': 'Bad request: {message}',
      'err.429': 'Too many requests; {wait} and try again.',
      'err.other': 'Server error ({status}); try again later.',
      'err.network': 'Cannot reach the service; check the network.',
      loading: 'Loading…',
      downloaded: 'Downloaded {name}',
      none: '—',
    },
  };

  // Review and return (审核与退回): its strings, merged into the tables above.
  const REVIEW_I18N = {
    zh: {
      'own.title': '本单位报表审核',
      'own.none': '本月还没有已接受的报表。',
      'own.accepted': '已接受，等待上级审核。',
      'own.reviewed': '上级已审核通过。',
      'own.returned': '报表已被上级退回，请按意见修改后重新上报。',
      'own.pending': '报表正在处理。',
      'own.rejected': '报表未通过校验，请修改后重新上报。',
      'own.missing': '本月尚未上报。',
      'review.title': '下级报表审核',
      'review.empty': '没有下级报送单位。',
      'review.summary': '{period}：待审核 {unreviewed}，已通过 {reviewed}，审核退回 {returned}（与 {previous} 相比）',
      'review.col.status': '审核状态',
      'review.col.issues': '问题',
      'review.col.members': '会员人数环比',
      'review.col.membership': '入会率环比',
      'review.col.action': '审核',
      'review.status.accepted': '待审核',
      'review.status.reviewed': '已通过',
      'review.status.returned': '审核退回',
      'review.status.pending': '处理中',
      'review.status.rejected': '未通过校验',
      'review.status.missing': '未上报',
      'review.issues': '{errors} 错 · {warnings} 提醒',
      'review.approve': '审核通过',
      'review.return': '退回',
      'review.comment': '退回意见（必填，最多 500 字）',
      'review.comment.need': '退回须填写意见。',
      'review.confirm': '确认退回',
      'review.cancel': '取消',
      'review.by': '{decision}：{by} · {at}',
      'review.decision.approved': '审核通过',
      'review.decision.returned': '审核退回',
      'review.done.approved': '{name} 的报表已审核通过。',
      'review.done.returned': '{name} 的报表已退回。',
      'review.note': '退回意见：{comment}',
      'comp.returned': '审核退回',
    },
    en: {
      'own.title': 'Review of our report',
      'own.none': 'No accepted report for this month yet.',
      'own.accepted': 'Accepted; awaiting review by the level above.',
      'own.reviewed': 'Approved in review by the level above.',
      'own.returned': 'The level above returned the report: correct it as the comment says and upload again.',
      'own.pending': 'The report is being processed.',
      'own.rejected': 'The report failed validation: correct it and upload again.',
      'own.missing': 'Nothing reported for this month yet.',
      'review.title': 'Review of reports below',
      'review.empty': 'No reporters below.',
      'review.summary': '{period}: {unreviewed} awaiting review, {reviewed} approved, {returned} returned (changes against {previous})',
      'review.col.status': 'Review',
      'review.col.issues': 'Issues',
      'review.col.members': 'Members vs last month',
      'review.col.membership': 'Membership rate vs last month',
      'review.col.action': 'Decision',
      'review.status.accepted': 'awaiting review',
      'review.status.reviewed': 'approved',
      'review.status.returned': 'returned',
      'review.status.pending': 'processing',
      'review.status.rejected': 'failed validation',
      'review.status.missing': 'not reported',
      'review.issues': '{errors} errors · {warnings} warnings',
      'review.approve': 'Approve',
      'review.return': 'Return',
      'review.comment': 'Why it is returned (required, at most 500 characters)',
      'review.comment.need': 'Say why the report is returned.',
      'review.confirm': 'Return the report',
      'review.cancel': 'Cancel',
      'review.by': '{decision}: {by} · {at}',
      'review.decision.approved': 'Approved',
      'review.decision.returned': 'Returned',
      'review.done.approved': '{name}: report approved.',
      'review.done.returned': '{name}: report returned.',
      'review.note': 'Returned: {comment}',
      'comp.returned': 'returned',
    },
  };
  for (const lang of Object.keys(REVIEW_I18N)) Object.assign(I18N[lang], REVIEW_I18N[lang]);

  // The month's approval (逐级审核) and lock on the roll-ups tab: their strings.
  const APPROVAL_I18N = {
    zh: {
      'approval.title': '逐级审核',
      'approval.approved': '本级汇总已审核通过（{by}，{at}）',
      'approval.not': '本级汇总尚未审核通过',
      'approval.children': '下级审核通过 {n}/{of}',
      'approval.locked.time': '本月已于 {date} 后按时间锁定',
      'approval.locked.approval': '本月已因 {org} 审核通过而锁定',
      'approval.open': '本月开放至 {date}',
      'approval.open.always': '本月开放',
      'approval.approve': '审核通过本级汇总',
      'approval.done': '{name} 本月汇总已审核通过。',
    },
    en: {
      'approval.title': 'Approval',
      'approval.approved': 'This level approved ({by}, {at})',
      'approval.not': 'This level not approved yet',
      'approval.children': 'levels below approved {n} of {of}',
      'approval.locked.time': 'the month locked by time after {date}',
      'approval.locked.approval': 'the month locked by the approval of {org}',
      'approval.open': 'the month open until {date}',
      'approval.open.always': 'the month open',
      'approval.approve': 'Approve this level',
      'approval.done': '{name}: month approved.',
    },
  };
  for (const lang of Object.keys(APPROVAL_I18N)) Object.assign(I18N[lang], APPROVAL_I18N[lang]);

  // Reminders (催报) and nil reports (零报告): their strings.
  const CHASE_I18N = {
    zh: {
      'reminders.title': '催报',
      'reminders.download': '下载催报名单',
      'reminders.hint': '催报名单列出本月尚无被接受报表的报送单位（未报送、未通过校验、审核退回）及其联系人；下表是本月已发出的催报邮件。',
      'reminders.empty': '本月还没有发出催报。',
      'reminders.more': '另有 {n} 条未列出，请下载催报名单查看。',
      'reminders.col.kind': '催报',
      'reminders.col.status': '发送结果',
      'reminders.col.address': '邮箱',
      'reminders.col.at': '时间',
      'reminders.kind.due_soon': '到期提醒',
      'reminders.kind.overdue': '逾期催报',
      'reminders.status.sent': '已发送',
      'reminders.status.failed': '发送失败',
      'reminders.status.unreachable': '无邮箱',
      'reminders.status.sending': '发送中',
      'reminders.attempts': '第 {n} 次',
      'nil.mark': '零报告',
      'nil.title': '零报告：本月确无数据，已报送但没有数字。',
      'comp.nil': '其中零报告 {n} 个。',
      'month.title': '报送情况',
      'month.hint': '上面所填报送单位（留空则本单位）在所选报告期的截止日期、是否已报送、审核和锁定情况，以及报送记录（最新的在前）。',
      'month.of': '{name}（{code}）{period}：截止日期 {deadline}',
      'month.status.on_time': '已按时报送',
      'month.status.late': '已报送（逾期）',
      'month.status.pending': '上报正在处理',
      'month.status.rejected': '上报未通过校验，尚未报送',
      'month.status.returned': '报表已被上级退回，请修改后重新上报',
      'month.status.missing': '尚未报送',
      'month.review.approved': '上级已审核通过',
      'month.review.returned': '上级审核退回',
      'month.approved': '本单位已审核通过下级报表',
      'month.locked': '本月已锁定：只能“仅检查”，正式上报须管理员说明理由',
      'month.locked.time': '报送期已于 {date} 结束',
      'month.locked.approval': '已审核锁定',
      'month.open': '本月开放上报至 {date}',
      'month.open.always': '本月开放上报',
      'month.none': '所填单位不是报送单位，或不在本账号范围内。',
      'history.empty': '所选报告期还没有上报记录。',
      'history.more': '更早的记录',
      'history.col.id': '编号',
      'history.col.file': '文件',
      'history.col.at': '上报时间',
      'history.show': '查看 #{id} 的检查结果',
      'history.locked': '已锁定',
      'uploads.locked.refused': '本月已锁定，正式上报被拒绝：可勾选“仅检查”检查文件；如需更改，请联系管理员并说明理由。',
    },
    en: {
      'reminders.title': 'Reminders',
      'reminders.download': 'Download the list to chase',
      'reminders.hint': 'The list holds the reporters with no accepted report for the month (missing, failed validation, returned in review) and their contacts; the table shows the reminders e-mailed this month.',
      'reminders.empty': 'No reminder sent this month yet.',
      'reminders.more': '{n} more not listed; download the list to see them all.',
      'reminders.col.kind': 'Notice',
      'reminders.col.status': 'Delivery',
      'reminders.col.address': 'E-mail',
      'reminders.col.at': 'When',
      'reminders.kind.due_soon': 'due soon',
      'reminders.kind.overdue': 'overdue',
      'reminders.status.sent': 'sent',
      'reminders.status.failed': 'failed',
      'reminders.status.unreachable': 'no e-mail',
      'reminders.status.sending': 'sending',
      'reminders.attempts': 'attempt {n}',
      'nil.mark': 'nil report',
      'nil.title': 'Nil report: nothing to report this month; reported, with no figures.',
      'comp.nil': '{n} of them nil reports.',
      'month.title': 'Where the month stands',
      'month.hint': 'For the reporter above (empty: your own unit) and the period chosen: the deadline, whether it is reported, reviewed or locked, and the uploads, newest first.',
      'month.of': '{name} ({code}) {period}: due {deadline}',
      'month.status.on_time': 'reported on time',
      'month.status.late': 'reported late',
      'month.status.pending': 'an upload is being processed',
      'month.status.rejected': 'uploads failed validation; not reported',
      'month.status.returned': 'returned in review: correct it and upload again',
      'month.status.missing': 'not reported yet',
      'month.review.approved': 'approved in review by the level above',
      'month.review.returned': 'returned in review by the level above',
      'month.approved': 'this unit has approved the reports below it',
      'month.locked': 'The month is locked: check only; a real upload needs an admin and a reason',
      'month.locked.time': 'closed after {date}',
      'month.locked.approval': 'locked by an approval',
      'month.open': 'open for uploads until {date}',
      'month.open.always': 'open for uploads',
      'month.none': 'That unit does not report, or is outside this account\'s scope.',
      'history.empty': 'No uploads for the period chosen.',
      'history.more': 'Earlier uploads',
      'history.col.id': 'No.',
      'history.col.file': 'File',
      'history.col.at': 'Uploaded',
      'history.show': 'Show the report of #{id}',
      'history.locked': 'locked',
      'uploads.locked.refused': 'The month is locked and the upload was refused: tick “Check only” to check the file; to change the month, ask an admin, with a reason.',
    },
  };
  for (const lang of Object.keys(CHASE_I18N)) Object.assign(I18N[lang], CHASE_I18N[lang]);

  // Explained exceptions (强制上报 with 说明): their strings, merged likewise.
  const EXPLAIN_I18N = {
    zh: {
      'sev.explain': '须说明',
      'explain.label': '说明（最多 500 字）',
      'explain.given': '说明：{text}',
      'explain.resubmit': '附说明重新提交',
      'explain.hint': '这些数字如确实无误（例如单位合并），请在每条下面填写说明，再点“附说明重新提交”。',
      'explain.none': '请至少填写一条说明。',
      'explain.lost': '要附说明重新提交，请重新选择该文件上传。',
      'explain.review': '填报说明',
      'explain.line': '{where}（{unit}）{value}：{title}。说明：{text}',
    },
    en: {
      'sev.explain': 'needs explanation',
      'explain.label': 'Explanation (at most 500 characters)',
      'explain.given': 'Explanation: {text}',
      'explain.resubmit': 'Resubmit with explanations',
      'explain.hint': 'If these figures are right (say, after a merger), explain each one below and choose “Resubmit with explanations”.',
      'explain.none': 'Type at least one explanation.',
      'explain.lost': 'To resubmit with explanations, pick the file again.',
      'explain.review': 'Explanations',
      'explain.line': '{where} ({unit}) {value}: {title}. Explanation: {text}',
    },
  };
  for (const lang of Object.keys(EXPLAIN_I18N)) Object.assign(I18N[lang], EXPLAIN_I18N[lang]);

  const FINAL = ['accepted', 'rejected', 'superseded'];
  const UPLOADS_STORE = 'unionstat.uploads';
  const LANG_STORE = 'unionstat.lang';
  const MAX_ISSUES_SHOWN = 200;
  const MAX_MISSING_SHOWN = 200;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const state = {
    lang: pickLang(),
    csrf: null, // the session's CSRF token: in memory only, sent with every write
    me: null,
    notice: null, // what the sign-in form says above its fields: {key, vars}
    period: null,
    tree: 'as_reported', // as_reported | current: the tree every roll-up is read under
    periodKind: 'month', // month | quarter | year | sy: what the roll-ups add up over
    figures: null, // the last indicators answer, for re-sorting the figures table
    figSort: { key: null, dir: -1 }, // the figures table's sort column and direction
    stack: [], // breadcrumb: [{code, name}], the user's own unit first
    uploads: [], // [{local, file, id, dry, result, duplicate, error}]
    seriesMissing: false, // the server has no /series route: build it from months
    rollupSeq: 0,
    formSeq: 0,
    seriesSeq: 0,
    share: null, // reporting.full_coverage_share as a percentage, from the series answer
  };

  const $ = (id) => document.getElementById(id);

  function pickLang() {
    const saved = safeStorage(localStorage, 'get', LANG_STORE);
    return saved === 'en' || saved === 'zh' ? saved : 'zh';
  }

  function safeStorage(store, op, key, value) {
    try {
      if (op === 'get') return store.getItem(key);
      if (op === 'set') store.setItem(key, value);
      if (op === 'del') store.removeItem(key);
    } catch (_) {
      // storage disabled: the page still works for this load
    }
    return null;
  }

  function t(key, vars) {
    const table = I18N[state.lang] || I18N.zh;
    let s = table[key];
    if (s === undefined) s = I18N.zh[key];
    if (s === undefined) return key;
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, (m, name) => (vars[name] === undefined ? m : String(vars[name])));
    }
    return s;
  }

  // ------------------------------------------------------------------ DOM
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') node.className = v;
        else if (k === 'text') node.textContent = v;
        else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? '' : v);
      }
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function announce(text) {
    $('status').textContent = text;
  }

  function applyStatic() {
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = 'unionstat · ' + t('title');
    for (const node of document.querySelectorAll('[data-i18n]')) {
      node.textContent = t(node.dataset.i18n);
    }
    for (const node of document.querySelectorAll('[data-i18n-label]')) {
      node.setAttribute('aria-label', t(node.dataset.i18nLabel));
    }
    const lang = $('lang');
    lang.textContent = state.lang === 'zh' ? 'English' : '中文';
    lang.lang = state.lang === 'zh' ? 'en' : 'zh-CN';
  }

  // -------------------------------------------------------------- numbers
  const numberFormat = () => new Intl.NumberFormat(state.lang === 'zh' ? 'zh-CN' : 'en-US', { maximumFractionDigits: 2 });

  function fmtNum(v) {
    return typeof v === 'number' && isFinite(v) ? numberFormat().format(v) : t('none');
  }

  function fmtPct(v) {
    return typeof v === 'number' && isFinite(v) ? (v * 100).toFixed(2) + '%' : t('none');
  }

  // ----------------------------------------------------------------- periods
  function lastMonth() {
    const d = new Date();
    d.setDate(1);
    d.setMonth(d.getMonth() - 1);
    return fmtMonth(d.getFullYear(), d.getMonth() + 1);
  }

  function fmtMonth(y, m) {
    return String(y).padStart(4, '0') + '-' + String(m).padStart(2, '0');
  }

  function parseMonth(s) {
    const m = /^(\d{4})-(\d{2})$/.exec(s || '');
    if (!m) return null;
    const month = Number(m[2]);
    if (month < 1 || month > 12) return null;
    return { y: Number(m[1]), m: month };
  }

  function addMonths(p, n) {
    const v = parseMonth(p);
    if (!v) return null;
    const idx = v.y * 12 + (v.m - 1) + n;
    return fmtMonth(Math.floor(idx / 12), (idx % 12) + 1);
  }

  /**
   * The roll-up period around the chosen month: the month, its quarter
   * (`2026Q4`), its year (`2026`) or its statistical year (`2026SY`, October
   * of the year before to September).
   */
  function rollupPeriod() {
    const v = parseMonth(state.period);
    if (!v) return state.period;
    switch (state.periodKind) {
      case 'quarter':
        return v.y + 'Q' + Math.ceil(v.m / 3);
      case 'year':
        return String(v.y);
      case 'sy':
        return (v.m >= 10 ? v.y + 1 : v.y) + 'SY';
      default:
        return state.period;
    }
  }

  /**
   * The period of `form` that holds the chosen month: the statistical year
   * (October on counts to the next year's, 2026SY) for the annual survey,
   * the half-year (2026H1, 2026H2) for the service report.
   */
  function formPeriod(form) {
    const v = parseMonth(state.period);
    if (!v) return state.period;
    if (form === 'annual_survey') return (v.m >= 10 ? v.y + 1 : v.y) + 'SY';
    if (form === 'service_half') return v.y + (v.m <= 6 ? 'H1' : 'H2');
    return state.period;
  }

  // ---------------------------------------------------------------------- API
  class ApiError extends Error {
    constructor(status, message, code, retryAfter) {
      super(message || '');
      this.status = status;
      this.code = code || '';
      this.retryAfter = retryAfter; // seconds, from a 429's Retry-After
    }
  }

  const READS = ['GET', 'HEAD'];

  /** One request with the session cookie; writes carry the CSRF token. */
  async function send(path, options) {
    const opts = Object.assign({ credentials: 'same-origin' }, options || {});
    const method = (opts.method || 'GET').toUpperCase();
    opts.headers = Object.assign({}, opts.headers || {});
    if (!READS.includes(method) && state.csrf) opts.headers['X-CSRF-Token'] = state.csrf;
    try {
      return await fetch(path, opts);
    } catch (_) {
      throw new ApiError(0, '');
    }
  }

  async function failure(resp) {
    let message = '';
    let code = '';
    try {
      const body = await resp.json();
      message = body && body.message ? String(body.message) : '';
      code = body && body.code ? String(body.code) : '';
      if (!code && body && /csrf/i.test(String(body.error || '') + ' ' + message)) code = 'csrf';
    } catch (_) {
      // not JSON: keep the status alone
    }
    return new ApiError(resp.status, message, code, retryAfter(resp));
  }

  /** Seconds from a Retry-After header (seconds or an HTTP date), or null. */
  function retryAfter(resp) {
    const v = resp.headers.get('retry-after');
    if (!v) return null;
    if (/^\d+$/.test(v.trim())) return Number(v.trim());
    const at = Date.parse(v);
    return isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
  }

  async function api(path, options) {
    let resp = await send(path, options);
    let err = resp.ok ? null : await failure(resp);
    // The session was replaced (signed in again in another tab): take its
    // current token and try the write once more.
    if (err && err.status === 403 && err.code === 'csrf' && state.me && (await refreshSession())) {
      resp = await send(path, options);
      err = resp.ok ? null : await failure(resp);
    }
    if (err) {
      if (err.status === 401 && state.me) signedOut(err.code === 'session_expired' ? 'signin.expired' : 'signin.ended');
      throw err;
    }
    return resp;
  }

  async function apiJson(path, options) {
    const resp = await api(path, options);
    return { status: resp.status, body: await resp.json() };
  }

  function errorText(err) {
    if (!(err instanceof ApiError)) return t('err.other', { status: '?' });
    if (err.status === 0) return t('err.network');
    if (err.status === 429) return t('err.429', { wait: waitText(err.retryAfter) });
    if ([401, 403, 404, 409, 413].includes(err.status)) return t('err.' + err.status);
    if (err.status === 422 || err.status === 400) return t('err.422', { message: ownLanguage(err.message) });
    return t('err.other', { status: err.status });
  }

  function waitText(seconds) {
    if (typeof seconds !== 'number' || !isFinite(seconds) || seconds <= 0) return t('wait.moment');
    if (seconds < 120) return t('wait.seconds', { n: Math.ceil(seconds) });
    return t('wait.minutes', { n: Math.ceil(seconds / 60) });
  }

  /** Downloads with the session, then saves through an object URL. */
  async function download(path, fallbackName) {
    const resp = await api(path);
    const blob = await resp.blob();
    const cd = resp.headers.get('content-disposition') || '';
    const m = /filename="?([^";]+)"?/i.exec(cd);
    const name = m ? m[1] : fallbackName;
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: name, class: 'visually-hidden' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    announce(t('downloaded', { name }));
  }

  const enc = encodeURIComponent;

  /** The page's language half of a service message written `中文 / English`. */
  function ownLanguage(message) {
    const parts = String(message || '').split(' / ');
    if (parts.length !== 2) return String(message || '');
    return parts[state.lang === 'en' ? 1 : 0];
  }

  /** A refusal whose reason the service words itself (a review, an approval): that reason, else the status's text. */
  function refusalText(err) {
    return err && err.message ? ownLanguage(err.message) : errorText(err);
  }

  // ------------------------------------------------------------------ contact
  /** The reporter whose contact the form shows: the code typed above, else the person's own unit. */
  function contactCode() {
    return $('reporter').value.trim() || (state.me && state.me.org) || '';
  }

  async function loadContact() {
    const code = contactCode();
    $('contact-status').textContent = '';
    if (!code) return;
    try {
      const { body } = await apiJson('/api/v1/orgs/' + enc(code) + '/contact');
      $('contact-name').value = body.name || '';
      $('contact-phone').value = body.phone || '';
      $('contact-email').value = body.email || '';
      $('contact-status').textContent = t('contact.of', { code: body.org, name: body.org_name });
    } catch (err) {
      $('contact-status').textContent = errorText(err);
    }
  }

  async function saveContact() {
    const code = contactCode();
    if (!code) return;
    const body = JSON.stringify({
      name: $('contact-name').value.trim(),
      phone: $('contact-phone').value.trim(),
      email: $('contact-email').value.trim(),
    });
    try {
      await apiJson('/api/v1/orgs/' + enc(code) + '/contact', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body });
      $('contact-status').textContent = t('contact.saved', { code });
      announce(t('contact.saved', { code }));
    } catch (err) {
      $('contact-status').textContent = errorText(err);
    }
  }

  function wireContact() {
    $('contact-load').addEventListener('click', loadContact);
    $('contact-save').addEventListener('click', saveContact);
  }

  // ------------------------------------------------------------------ sign-in
  /** Signs in with a login and password; the server sets the session cookie. */
  async function signIn(login, password) {
    const resp = await send('/api/v1/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ login, password }),
    });
    if (!resp.ok) throw await failure(resp);
    enter(await resp.json());
  }

  /** The session the cookie already holds (a reload), or null when there is none. */
  async function resumeSession() {
    const resp = await send('/api/v1/session');
    if (resp.ok) return resp.json();
    const err = await failure(resp);
    if (err.status === 401) {
      if (err.code === 'session_expired') setNotice('signin.expired');
      return null;
    }
    throw err;
  }

  /** A fresh CSRF token for the current cookie; false when the session is gone. */
  async function refreshSession() {
    try {
      const resp = await send('/api/v1/session');
      if (!resp.ok) return false;
      const body = await resp.json();
      if (!body || !body.csrf_token) return false;
      state.csrf = body.csrf_token;
      if (body.me) state.me = body.me;
      return true;
    } catch (_) {
      return false;
    }
  }

  function enter(session) {
    state.csrf = session.csrf_token;
    state.me = session.me;
    setNotice(null);
    showApp();
  }

  /** Ends the session on the server, then shows the sign-in form. */
  async function signOut() {
    $('app-error').textContent = '';
    $('signout').disabled = true;
    try {
      await api('/api/v1/session', { method: 'DELETE' });
      signedOut('signin.out');
    } catch (err) {
      // A 401 has already shown the sign-in form: the session was over anyway.
      if (err.status !== 401) $('app-error').textContent = t('signout.failed', { error: errorText(err) });
    } finally {
      $('signout').disabled = false;
    }
  }

  /** Forgets everything of the session and shows the sign-in form saying why. */
  function signedOut(reason) {
    state.csrf = null;
    state.me = null;
    state.stack = [];
    state.uploads = [];
    safeStorage(sessionStorage, 'del', UPLOADS_STORE);
    $('uploads').replaceChildren();
    renderUploadsEmpty();
    renderStanding(undefined);
    renderHistory([], false, null);
    $('app-view').hidden = true;
    $('signin-view').hidden = false;
    $('who').hidden = true;
    $('period-box').hidden = true;
    $('signout').hidden = true;
    $('app-error').textContent = '';
    // The next person to sign in starts from their own unit, not this one's.
    $('reporter').value = '';
    $('reporters').replaceChildren();
    $('dry-run').checked = false;
    $('password').value = '';
    $('signin-error').textContent = '';
    setNotice(reason);
    $($('login').value ? 'password' : 'login').focus();
  }

  /** What the sign-in form says above the fields (kept across a language switch). */
  function setNotice(key, vars) {
    state.notice = key ? { key, vars } : null;
    renderNotice();
  }

  function renderNotice() {
    const box = $('signin-notice');
    box.textContent = state.notice ? t(state.notice.key, state.notice.vars) : '';
    box.hidden = !state.notice;
  }

  function renderWho() {
    const me = state.me;
    if (!me) return;
    const actor = me.actor || {};
    const person = actor.kind === 'user' ? actor.name || actor.login : actor.label || '';
    const box = $('who');
    box.replaceChildren(
      el('span', { class: 'visually-hidden', text: t('who.label') + ': ' }),
      el('span', { class: 'who-person', text: person }),
      ' ',
      el('span', { class: 'who-org', text: me.name }),
      ' ',
      el('small', { class: 'who-code', text: me.org }),
      ' ',
      el('span', { class: 'pill pending who-role', 'data-role': me.role, text: t('role.' + me.role) }),
    );
    box.title = t('who', { person, org: me.name, code: me.org, role: t('role.' + me.role) });
  }

  function showApp() {
    const me = state.me;
    $('signin-view').hidden = true;
    $('app-view').hidden = false;
    $('who').hidden = false;
    $('period-box').hidden = false;
    $('signout').hidden = false;
    renderWho();
    state.stack = [{ code: me.org, name: me.name }];
    const canUpload = me.role !== 'viewer';
    $('viewer-note').hidden = canUpload;
    for (const id of ['reporter', 'template', 'dry-run', 'nil-report', 'file']) $(id).disabled = !canUpload;
    $('drop').classList.toggle('disabled', !canUpload);
    if (me.expected_to_report && !$('reporter').value) $('reporter').value = me.org;
    loadReporters();
    restoreUploads();
    loadOwnReview();
    loadHistory();
    selectTab(canUpload ? 'upload' : 'rollups');
  }

  // --------------------------------------------------------------------- tabs
  function selectTab(name) {
    for (const tab of ['upload', 'rollups']) {
      const on = tab === name;
      $('tab-' + tab).setAttribute('aria-selected', on ? 'true' : 'false');
      $('tab-' + tab).tabIndex = on ? 0 : -1;
      $('panel-' + tab).hidden = !on;
    }
    if (name === 'rollups') loadRollups();
  }

  function currentTab() {
    return $('panel-rollups').hidden ? 'upload' : 'rollups';
  }

  // ------------------------------------------------------------------ uploads
  /** Reporters the user can upload for, as suggestions for the reporter field. */
  async function loadReporters() {
    if (!state.me || state.me.role === 'viewer' || !state.period) return;
    try {
      const { body } = await apiJson('/api/v1/orgs/' + enc(state.me.org) + '/completeness?period=' + enc(state.period));
      const list = $('reporters');
      list.replaceChildren();
      for (const r of body.reporters || []) {
        list.append(el('option', { value: r.code, label: r.name + ' · ' + t('comp.' + r.status) }));
      }
    } catch (_) {
      // suggestions only: typing a code still works
    }
  }

  function saveUploads() {
    const ids = state.uploads.filter((u) => u.id && !u.dry).slice(-20).map((u) => ({ id: u.id, file: u.file }));
    safeStorage(sessionStorage, 'set', UPLOADS_STORE, JSON.stringify(ids));
  }

  function restoreUploads() {
    if (state.uploads.length) return;
    let saved = [];
    try {
      saved = JSON.parse(safeStorage(sessionStorage, 'get', UPLOADS_STORE) || '[]');
    } catch (_) {
      saved = [];
    }
    if (!Array.isArray(saved)) return;
    for (const s of saved) {
      if (!s || typeof s.id !== 'number') continue;
      const u = { local: nextLocal(), file: String(s.file || ''), id: s.id, dry: false, result: null };
      state.uploads.push(u);
      renderUpload(u);
      poll(u);
    }
    renderUploadsEmpty();
  }

  let localCounter = 0;
  const nextLocal = () => ++localCounter;

  function renderUploadsEmpty() {
    $('uploads-empty').hidden = state.uploads.length > 0;
  }

  async function uploadFiles(files) {
    $('upload-error').textContent = '';
    if (!state.me || state.me.role === 'viewer') return;
    if (!parseMonth(state.period)) {
      $('upload-error').textContent = t('upload.period.bad');
      return;
    }
    for (const file of files) {
      await uploadOne(file);
    }
  }

  async function uploadOne(file, again) {
    // A resubmission with explanations repeats the first upload's choices.
    const reporter = again ? again.reporter : $('reporter').value.trim();
    const dry = again ? again.dry : $('dry-run').checked;
    const nil = again ? again.nil : $('nil-report').checked;
    const period = again ? again.period : state.period;
    const u = { local: nextLocal(), file: file.name, blob: file, id: null, dry, nil, result: null, reporter, period, notes: {} };
    state.uploads.unshift(u);
    renderUploadsEmpty();
    renderUpload(u);
    const q = new URLSearchParams();
    if (reporter) q.set('reporter', reporter);
    q.set('period', period);
    q.set('filename', file.name);
    if (dry) q.set('dry_run', 'true');
    if (nil) q.set('nil_report', 'true');
    const form = new FormData();
    if (again && again.explanations.length) form.append('explanations', JSON.stringify(again.explanations));
    form.append('file', file, file.name);
    try {
      const { status, body } = await apiJson('/api/v1/submissions?' + q.toString(), { method: 'POST', body: form });
      if (dry) {
        u.result = body;
        renderUpload(u);
        announce(file.name + ': ' + verdictText(u));
        return;
      }
      u.id = body.id;
      u.duplicate = status === 200;
      u.result = { id: body.id, status: body.status, issues: [] };
      saveUploads();
      renderUpload(u);
      poll(u);
    } catch (err) {
      // A locked month refuses a real upload; say so rather than "no right".
      u.error = err.status === 403 && /is locked/.test(err.message) ? t('uploads.locked.refused') : errorText(err);
      renderUpload(u);
      announce(file.name + ': ' + u.error);
    }
  }

  async function poll(u) {
    let delay = 400;
    for (;;) {
      if (!state.me || !state.uploads.includes(u)) return;
      try {
        const { body } = await apiJson('/api/v1/submissions/' + enc(u.id));
        u.result = body;
        u.error = null;
        renderUpload(u);
        if (FINAL.includes(body.status)) {
          announce(u.file + ': ' + verdictText(u));
          if (body.status === 'accepted') loadOwnReview();
          loadHistory();
          return;
        }
      } catch (err) {
        u.error = errorText(err);
        renderUpload(u);
        if (err.status && err.status !== 0 && err.status < 500) return;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 1.5, 3000);
    }
  }

  function verdictText(u) {
    if (u.error) return u.error;
    if (!u.result) return t('uploads.sending');
    if (u.dry) return t(u.result.status === 'accepted' ? 'uploads.dry.accepted' : 'uploads.dry.rejected');
    return t('status.' + u.result.status);
  }

  function statusClass(u) {
    if (u.error) return 'bad';
    const s = u.result && u.result.status;
    if (s === 'accepted') return 'ok';
    if (s === 'rejected') return 'bad';
    if (s === 'superseded') return 'na';
    return 'pending';
  }

  function renderUpload(u) {
    const list = $('uploads');
    const r = u.result;
    const status = u.error ? 'error' : r ? r.status : 'sending';
    const head = el(
      'div',
      { class: 'upload-head' },
      el('span', { class: 'file', text: u.file }),
      el('span', { class: 'pill verdict ' + statusClass(u), text: verdictText(u) }),
    );
    const meta = [];
    if (r && r.reporter) meta.push(r.reporter);
    else if (u.reporter) meta.push(u.reporter);
    if (r && r.period) meta.push(r.period);
    else if (u.period) meta.push(u.period);
    if (r && r.id) meta.push('#' + r.id);
    const item = el('li', {
      class: 'upload',
      'data-local': String(u.local),
      'data-file': u.file,
      'data-status': status,
      'data-id': u.id ? String(u.id) : null,
    });
    if (r && r.nil_report) head.append(nilMark());
    item.append(head);
    if (meta.length) item.append(el('p', { class: 'meta', text: meta.join(' · ') }));
    if (u.dry) item.append(el('p', { class: 'hint', text: t('uploads.dry') }));
    if (u.dry && r && r.locked && r.note) item.append(el('p', { class: 'note locked-note', role: 'note', text: inLang(r.note) }));
    if (u.duplicate) item.append(el('p', { class: 'hint', text: t('uploads.duplicate') }));
    const final = r && (u.dry || FINAL.includes(r.status));
    if (final) {
      const issues = Array.isArray(r.issues) ? r.issues : [];
      const errors = typeof r.error_count === 'number' ? r.error_count : issues.filter((i) => i.severity === 'error').length;
      const warnings = typeof r.warning_count === 'number' ? r.warning_count : issues.length - errors;
      const facts = [t('uploads.counts', { errors, warnings })];
      if (typeof r.rows_read === 'number' && r.rows_read > 0) facts.push(t('uploads.rows', { rows: r.rows_read }));
      item.append(el('p', { class: 'meta', text: facts.join(' · ') }));
      if (!u.dry && u.id) {
        item.append(
          el('button', {
            type: 'button',
            class: 'link annotated',
            text: t('uploads.annotated'),
            onclick: () => {
              u.downloadError = null;
              download('/api/v1/submissions/' + enc(u.id) + '/annotated.xlsx', 'submission_' + u.id + '_annotated.xlsx')
                .catch((err) => {
                  // Re-rendered only to show the error, so a download keeps the focus.
                  u.downloadError = errorText(err);
                  renderUpload(u);
                });
            },
          }),
        );
      }
      if (u.downloadError) item.append(el('p', { class: 'error', role: 'alert', text: u.downloadError }));
      if (r.review) item.append(reviewLine(r.review, 'upload-review'));
      item.append(issues.length ? renderIssues(issues, u, r.rules) : el('p', { class: 'hint', text: t('uploads.noissues') }));
      if (issues.some(needsExplanation)) item.append(explainForm(u));
    }
    item.append(
      el('button', {
        type: 'button',
        class: 'remove icon',
        'aria-label': t('uploads.remove') + ': ' + u.file,
        title: t('uploads.remove'),
        text: '×',
        onclick: () => {
          state.uploads = state.uploads.filter((x) => x !== u);
          item.remove();
          saveUploads();
          renderUploadsEmpty();
        },
      }),
    );
    const old = list.querySelector('li[data-local="' + u.local + '"]');
    if (old) old.replaceWith(item);
    else list.prepend(item);
  }

  const needsExplanation = (i) => i.severity === 'explain' && !i.explanation;
  const noteKey = (i) => (i.rule || '') + '|' + (i.cell || '');

  /** The box under a finding that waits for its explanation (说明). */
  function explainBox(u, i) {
    const id = 'explain-' + u.local + '-' + noteKey(i).replace(/[^A-Za-z0-9_]/g, '-');
    const area = el('textarea', { id, class: 'explain-text', maxlength: '500', rows: '2', 'data-rule': i.rule, 'data-cell': i.cell || '' });
    area.value = u.notes[noteKey(i)] || '';
    area.addEventListener('input', () => {
      u.notes[noteKey(i)] = area.value;
    });
    return el('div', { class: 'explain-box' }, el('label', { for: id, text: t('explain.label') }), area);
  }

  /** Under a report with unexplained findings: resubmit the same file with the explanations typed. */
  function explainForm(u) {
    const error = el('p', { class: 'error', role: 'alert' });
    const wrap = el('div', { class: 'explain-form' }, el('p', { class: 'hint', text: t('explain.hint') }));
    if (!u.blob && !u.entry) {
      wrap.append(el('p', { class: 'hint', text: t('explain.lost') }));
      return wrap;
    }
    wrap.append(
      el('button', {
        type: 'button',
        class: 'primary resubmit-explained',
        text: t('explain.resubmit'),
        onclick: () => {
          const issues = (u.result && u.result.issues) || [];
          const explanations = issues
            .filter(needsExplanation)
            .map((i) => ({ rule: i.rule, cell: i.cell || '', text: (u.notes[noteKey(i)] || '').trim() }))
            .filter((x) => x.text);
          if (!explanations.length) {
            error.textContent = t('explain.none');
            return;
          }
          if (u.entry) {
            const again = Object.assign({}, u.entry, { body: Object.assign({}, u.entry.body, { explanations }) });
            sendEntry(again).catch((err) => {
              error.textContent = errorText(err);
            });
            return;
          }
          uploadOne(u.blob, { reporter: u.reporter, period: u.period, dry: u.dry, nil: u.nil, explanations });
        },
      }),
      error,
    );
    return wrap;
  }

  /**
   * The report grouped by rule under each rule's title in the page's language:
   * errors first, then findings to explain, then warnings, each by most
   * findings. `rules` (from the answer) gives each rule's title, its full
   * count and what the answer left out.
   */
  function renderIssues(issues, u, rules) {
    const known = new Map((Array.isArray(rules) ? rules : []).map((r, idx) => [(r.rule || '?') + '|' + (r.severity || ''), { ...r, idx }]));
    const groups = new Map();
    for (const i of issues) {
      const key = (i.rule || '?') + '|' + (i.severity || '');
      if (!groups.has(key)) groups.set(key, { rule: i.rule || '?', severity: i.severity || 'error', items: [], info: known.get(key) });
      groups.get(key).items.push(i);
    }
    const weight = { error: 0, explain: 1, warning: 2 };
    const count = (g) => (g.info && typeof g.info.count === 'number' ? g.info.count : g.items.length);
    const ordered = [...groups.values()].sort((a, b) => {
      if (a.info && b.info) return a.info.idx - b.info.idx;
      if (a.severity !== b.severity) return (weight[a.severity] ?? 3) - (weight[b.severity] ?? 3);
      return count(b) - count(a);
    });
    const inLang = (m) => (m ? m[state.lang] || m.zh || m.en || '' : '');
    const wrap = el('div', { class: 'issues' });
    let shown = 0;
    let listed = 0;
    ordered.forEach((g, idx) => {
      const details = el('details', { class: 'rule ' + g.severity, 'data-rule': g.rule });
      details.open = idx < 5;
      const title = (g.info && inLang(g.info.title)) || g.rule;
      details.append(
        el(
          'summary',
          { title: g.rule },
          el('span', { class: 'pill ' + (g.severity === 'warning' ? 'partial' : 'bad'), text: t('sev.' + g.severity) }),
          ' ',
          el('span', { class: 'rule-title', text: title }),
          ' ',
          el('span', { class: 'count', text: t('rule.count', { n: count(g) }) }),
        ),
      );
      const rows = el('tbody');
      for (const i of g.items) {
        listed += 1;
        if (shown >= MAX_ISSUES_SHOWN) continue;
        shown += 1;
        const where = i.sheet && i.cell ? i.sheet + '!' + i.cell : i.cell || i.sheet || '';
        const unit = i.unit ? (i.unit.name ? i.unit.code + ' ' + i.unit.name : i.unit.code) : '';
        rows.append(
          el(
            'tr',
            { class: 'issue', 'data-cell': i.cell || '' },
            el('td', { class: 'cell' }, el('code', { text: where })),
            el('td', { class: 'unit', text: unit }),
            el('td', { class: 'value', text: i.value === null || i.value === undefined ? '' : String(i.value) }),
            el(
              'td',
              { class: 'msg' },
              inLang(i.message),
              i.explanation ? el('p', { class: 'explanation', text: t('explain.given', { text: i.explanation.text }) }) : null,
              u && u.result && needsExplanation(i) ? explainBox(u, i) : null,
            ),
          ),
        );
      }
      const table = el(
        'table',
        { class: 'grid issue-table' },
        el(
          'thead',
          null,
          el(
            'tr',
            null,
            el('th', { scope: 'col', text: t('issue.cell') }),
            el('th', { scope: 'col', text: t('issue.unit') }),
            el('th', { scope: 'col', text: t('issue.value') }),
            el('th', { scope: 'col', text: t('issue.message') }),
          ),
        ),
        rows,
      );
      details.append(el('div', { class: 'table-wrap' }, table));
      if (g.info && g.info.more) details.append(el('p', { class: 'hint more', text: inLang(g.info.more) }));
      wrap.append(details);
    });
    if (listed > shown) wrap.append(el('p', { class: 'hint', text: t('uploads.more', { n: listed - shown }) }));
    return wrap;
  }

  // ------------------------------------------------------------------ roll-ups
  function currentNode() {
    return state.stack[state.stack.length - 1];
  }

  function renderCrumbs() {
    const ol = $('crumbs');
    ol.replaceChildren();
    state.stack.forEach((node, idx) => {
      const last = idx === state.stack.length - 1;
      const li = el('li', { 'data-code': node.code });
      if (last) {
        li.append(el('span', { 'aria-current': 'page', text: node.name }));
      } else {
        li.append(
          el('button', {
            type: 'button',
            class: 'link',
            text: node.name,
            onclick: () => {
              state.stack = state.stack.slice(0, idx + 1);
              loadRollups();
            },
          }),
        );
      }
      ol.append(li);
    });
  }

  function coverageClass(reported, expected) {
    if (!expected) return 'na';
    if (reported >= expected) return 'ok';
    if (reported > 0) return 'partial';
    return 'bad';
  }

  const STATUS_CLASS = { on_time: 'ok', late: 'partial', pending: 'pending', rejected: 'bad', returned: 'bad', missing: 'bad' };

  async function loadRollups() {
    const node = currentNode();
    if (!node || !state.period) return;
    const seq = ++state.rollupSeq;
    renderCrumbs();
    $('rollup-error').textContent = '';
    $('node-name').textContent = node.name;
    $('panel-rollups').setAttribute('aria-busy', 'true');
    // Figures over the chosen span; who reported is of the chosen month.
    const tree = '&tree=' + enc(state.tree);
    try {
      const [ind, comp] = await Promise.all([
        apiJson('/api/v1/orgs/' + enc(node.code) + '/indicators?period=' + enc(rollupPeriod()) + tree + '&children=true'),
        apiJson('/api/v1/orgs/' + enc(node.code) + '/completeness?period=' + enc(state.period) + tree).catch(() => null),
      ]);
      if (seq !== state.rollupSeq) return;
      node.name = ind.body.name || node.name;
      renderCrumbs();
      renderNode(ind.body, comp ? comp.body : null);
      renderTreeNote(ind.body.tree);
      loadReminders(node.code, comp ? comp.body : null);
    } catch (err) {
      if (seq !== state.rollupSeq) return;
      $('rollup-error').textContent = errorText(err);
    } finally {
      if (seq === state.rollupSeq) $('panel-rollups').removeAttribute('aria-busy');
    }
    loadSeries();
    loadReviews();
    loadFormFigures();
  }

  /**
   * The node's figures of the form picked (GET /orgs/{code}/forms/{form}):
   * each metric's total and the units reporting it, for the form's period
   * holding the chosen month. The monthly form's figures are the tables above.
   */
  async function loadFormFigures() {
    const node = currentNode();
    const form = $('form-pick').value;
    const table = $('form-figures');
    const body = table.querySelector('tbody');
    const seq = ++state.formSeq;
    $('form-error').textContent = '';
    body.replaceChildren();
    table.hidden = true;
    if (!node || !state.period || form === 'monthly') {
      $('form-period').textContent = t('form.monthly_hint');
      return;
    }
    const period = formPeriod(form);
    $('form-period').textContent = period;
    try {
      const res = await apiJson('/api/v1/orgs/' + enc(node.code) + '/forms/' + enc(form) + '?period=' + enc(period));
      if (seq !== state.formSeq) return;
      const v = res.body;
      const expected = v.reported.length + v.not_reported.length;
      $('form-period').textContent = t('form.shown', { period: v.period, reported: v.reported.length, expected });
      // The form's metrics in catalogue order, those reported; a sum is
      // stored scaled by 10^decimals (fen for yuan).
      const rows = v.metrics.filter((m) => v.totals[m.code]);
      if (rows.length === 0) {
        $('form-period').textContent += ' ' + t('form.empty');
        return;
      }
      for (const m of rows) {
        const total = v.totals[m.code];
        const value = total.value / Math.pow(10, m.decimals);
        body.append(el('tr', { 'data-metric': m.code },
          el('th', { scope: 'row', text: state.lang === 'en' ? m.en : m.zh }),
          el('td', { class: 'num', text: fmtNum(value), 'data-value': String(value) }),
          el('td', { class: 'num', text: fmtNum(total.units) })));
      }
      table.hidden = false;
    } catch (err) {
      if (seq !== state.formSeq) return;
      $('form-error').textContent = errorText(err);
    }
  }

  /**
   * The month's approval (逐级审核) of the node: approved or not (by whom,
   * when), how many child federations approved, whether the month is locked
   * (by time or by an approval) or open until when, and for a non-viewer the
   * button that approves this level (the service names what is missing when
   * it is too early). Absent for quarters and years.
   */
  function renderApproval(view) {
    const box = $('node-approval');
    const a = view.approval;
    if (!a) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const parts = [
      el('strong', { text: t('approval.title') + ' ' }),
      el('span', {
        class: 'pill ' + (a.approved ? 'ok' : 'pending'),
        'data-approved': String(a.approved),
        text: a.approved ? t('approval.approved', { by: a.approved_by || '', at: fmtInstant(a.approved_at) }) : t('approval.not'),
      }),
    ];
    const kids = (view.children || []).filter((c) => c.approval && c.kind !== 'grassroots' && (c.coverage || {}).expected_reporters > 0);
    if (kids.length) {
      const n = kids.filter((c) => c.approval.approved).length;
      parts.push(' ', el('span', { class: 'pill ' + (n === kids.length ? 'ok' : 'pending'), 'data-children-approved': n + '/' + kids.length, text: t('approval.children', { n, of: kids.length }) }));
    }
    let lock;
    if (a.locked && (a.locked_by || '').includes('approval')) lock = t('approval.locked.approval', { org: a.locked_by_org || '' });
    else if (a.locked) lock = t('approval.locked.time', { date: a.closes_on || '' });
    else lock = a.closes_on ? t('approval.open', { date: a.closes_on }) : t('approval.open.always');
    parts.push(' ', el('span', { class: 'pill ' + (a.locked ? 'bad' : 'na'), 'data-locked': String(a.locked), text: lock }));
    if (!a.approved && state.me && state.me.role !== 'viewer') {
      parts.push(' ', el('button', { type: 'button', id: 'approve-node', text: t('approval.approve'), onclick: () => approveNode(view) }));
    }
    parts.push(el('span', { id: 'approval-error', class: 'error', role: 'alert' }));
    box.replaceChildren(...parts);
    box.hidden = false;
  }

  async function approveNode(view) {
    try {
      await apiJson('/api/v1/orgs/' + enc(view.org) + '/approval?period=' + enc(view.period), { method: 'POST' });
      announce(t('approval.done', { name: view.name }));
      loadRollups();
    } catch (err) {
      $('approval-error').textContent = ' ' + refusalText(err);
    }
  }

  /** Says, when the month's tree and today's differ for this node, which units moved. */
  function renderTreeNote(tree) {
    const note = $('tree-note');
    const d = tree && tree.differs;
    if (!d) {
      note.hidden = true;
      note.textContent = '';
      return;
    }
    note.textContent = t('tree.differs', { month: d.month, in: d.units_moved_in, out: d.units_moved_out });
    note.hidden = false;
  }

  function rateTile(id, label, rate, comparisons) {
    const value = rate && typeof rate.value === 'number' ? rate.value : null;
    const tile = el(
      'div',
      { class: 'tile', id: 'node-' + id },
      el('span', { class: 'tile-label', text: label }),
      el('span', { class: 'tile-value value', 'data-value': value === null ? '' : String(value), text: fmtPct(value) }),
    );
    if (rate && rate.numerator !== null && rate.numerator !== undefined) {
      tile.append(el('span', { class: 'tile-sub', text: t('tile.of', { num: fmtNum(rate.numerator), den: fmtNum(rate.denominator) }) }));
    }
    tile.append(bar(value));
    const changes = changeLine(comparisons, id);
    if (changes) tile.append(changes);
    return tile;
  }

  function bar(value) {
    const outer = el('span', { class: 'bar', 'aria-hidden': 'true' });
    const fill = el('span', { class: 'fill' });
    // CSSOM, not a style attribute: allowed by the page's Content-Security-Policy.
    fill.style.width = value === null ? '0%' : Math.max(0, Math.min(100, value * 100)).toFixed(2) + '%';
    outer.append(fill);
    return outer;
  }

  /** A bilingual message {zh, en} in the page's language. */
  function inLang(m) {
    return (m && (m[state.lang] || m.zh)) || '';
  }

  function fmtPoints(v) {
    if (typeof v !== 'number') return '—';
    const s = (v > 0 ? '+' : v < 0 ? '−' : '') + Math.abs(v).toFixed(2);
    return t('cmp.points', { v: s });
  }

  /** 环比 and 同比 of one rate, as a line under its value; null without comparisons. */
  function changeLine(comparisons, code) {
    if (!comparisons) return null;
    const line = el('span', { class: 'changes' });
    for (const key of ['mom', 'yoy']) {
      const c = comparisons[key];
      if (!c) continue;
      const change = c.indicators && c.indicators[code] ? c.indicators[code].change : null;
      const part = el('span', {
        class: 'change ' + key + (c.coverage_differs ? ' differs' : ''),
        'data-change': typeof change === 'number' ? String(change) : '',
        text: t('cmp.' + key) + ' ' + fmtPoints(change) + (c.coverage_differs ? ' *' : ''),
      });
      const notes = (c.coverage_note || []).map(inLang);
      part.title = t('cmp.title', { label: t('cmp.' + key), period: c.period }) +
        (c.coverage_differs ? ' — ' + t('cmp.differs') + ': ' + notes.join('; ') : '');
      line.append(part);
    }
    return line;
  }

  /** Figures that rest on some units' reports, not all (none at all is "missing", not partial). */
  function isPartial(view) {
    return !!view.partial && !!view.coverage && view.coverage.reported_units > 0;
  }

  /** The answer's partial-coverage notes, or nothing when it rests on full coverage. */
  function renderPartial(view) {
    const box = $('partial-notes');
    const notes = view.partial_notes || [];
    box.replaceChildren();
    if (!notes.length) {
      box.hidden = true;
      return;
    }
    box.append(el('strong', { text: view.partial ? t('partial.title') : '' }));
    const list = el('ul');
    for (const n of notes) list.append(el('li', { text: inLang(n) }));
    box.append(list);
    box.classList.toggle('partial', !!view.partial);
    box.hidden = false;
  }

  function renderNode(view, comp) {
    const ind = view.indicators || {};
    const cov = view.coverage || {};
    const tiles = $('node-cards');
    tiles.dataset.org = view.org;
    tiles.dataset.period = view.period || '';
    $('node-period').textContent = t('span.shown', {
      period: view.period || '',
      kind: t('span.kind.' + (view.period_kind || 'month')),
      month: state.period,
    });
    state.figures = view;
    renderFigures();
    tiles.replaceChildren(
      rateTile('unionisation_rate', t('ind.unionisation_rate'), ind.unionisation_rate, view.comparisons),
      rateTile('membership_rate', t('ind.membership_rate'), ind.membership_rate, view.comparisons),
      rateTile('reporting_rate', t('ind.reporting_rate'), ind.reporting_rate, view.comparisons),
      el(
        'div',
        { class: 'tile', id: 'node-coverage' },
        el('span', { class: 'tile-label', text: t('tile.coverage') }),
        el('span', {
          class: 'pill ' + (isPartial(view) ? 'partial' : coverageClass(cov.reported_units, cov.expected_units)),
          text: t('tile.units', { reported: fmtNum(cov.reported_units), expected: fmtNum(cov.expected_units) }) +
            (isPartial(view) ? ' · ' + t('partial.mark') : ''),
        }),
        el('span', {
          class: 'pill ' + coverageClass(cov.reported_reporters, cov.expected_reporters),
          text: t('tile.reporters', { reported: fmtNum(cov.reported_reporters), expected: fmtNum(cov.expected_reporters) }),
        }),
      ),
    );

    renderPartial(view);
    renderApproval(view);

    const statusOf = new Map();
    if (comp) for (const r of comp.reporters || []) statusOf.set(r.code, r);
    $('completeness-summary').textContent = comp
      ? comp.expected_reporters
        ? t('comp.summary', {
            expected: comp.expected_reporters,
            on_time: comp.on_time,
            late: comp.late,
            pending: comp.pending,
            rejected: comp.rejected,
            returned: comp.returned || 0,
            missing: comp.missing,
            deadline: comp.deadline,
          }) + (comp.nil_reports ? ' ' + t('comp.nil', { n: comp.nil_reports }) : '')
        : t('comp.none')
      : '';

    const tbody = $('children').querySelector('tbody');
    const frag = document.createDocumentFragment();
    const children = view.children || [];
    for (const c of children) {
      const ci = c.indicators || {};
      const cc = c.coverage || {};
      const drillable = c.kind !== 'grassroots';
      const unit = drillable
        ? el('button', {
            type: 'button',
            class: 'link drill',
            'aria-label': t('drill', { name: c.name }),
            text: c.name,
            onclick: () => {
              state.stack.push({ code: c.org, name: c.name });
              loadRollups();
              $('node-name').focus();
            },
          })
        : el('span', { text: c.name });
      let reporting;
      const own = statusOf.get(c.org);
      if (own) {
        reporting = el('span', { class: 'pill ' + (STATUS_CLASS[own.status] || 'na'), text: t('comp.' + own.status) });
        if (own.nil_report) reporting = el('span', null, reporting, ' ', nilMark());
      } else {
        reporting = el('span', {
          class: 'pill ' + coverageClass(cc.reported_reporters, cc.expected_reporters),
          text: cc.expected_reporters ? t('comp.count', { reported: cc.reported_reporters, expected: cc.expected_reporters }) : t('none'),
        });
      }
      frag.append(
        el(
          'tr',
          { 'data-code': c.org },
          el('th', { scope: 'row' }, unit, el('small', { class: 'code', text: c.org })),
          rateCell('unionisation_rate', ci.unionisation_rate, c.comparisons),
          rateCell('membership_rate', ci.membership_rate, c.comparisons),
          el(
            'td',
            { class: 'coverage' + (isPartial(c) ? ' is-partial' : '') },
            el('span', {
              class: 'pill ' + (isPartial(c) ? 'partial' : coverageClass(cc.reported_units, cc.expected_units)),
              text: cc.expected_units
                ? cc.reported_units + '/' + cc.expected_units + (isPartial(c) ? ' ' + t('partial.mark') : '')
                : t('none'),
              title: (c.partial_notes || []).map(inLang).join(' '),
            }),
          ),
          el('td', { class: 'reporting' }, reporting),
        ),
      );
    }
    tbody.replaceChildren(frag);
    $('children').hidden = children.length === 0;
    $('children-empty').hidden = children.length > 0;

    const missingBody = $('missing').querySelector('tbody');
    const missingFrag = document.createDocumentFragment();
    const late = comp ? (comp.reporters || []).filter((r) => r.status !== 'on_time') : [];
    for (const r of late.slice(0, MAX_MISSING_SHOWN)) {
      const contact = [r.preparer, r.phone, r.email].filter(Boolean).join(' ');
      missingFrag.append(
        el(
          'tr',
          { 'data-code': r.code },
          el('th', { scope: 'row' }, el('span', { text: r.name }), el('small', { class: 'code', text: r.code })),
          el('td', null, el('span', { class: 'pill ' + (STATUS_CLASS[r.status] || 'na'), text: t('comp.' + r.status) }), r.nil_report ? ' ' : null, r.nil_report ? nilMark() : null),
          el('td', { text: contact || t('none') }),
        ),
      );
    }
    if (late.length > MAX_MISSING_SHOWN) {
      missingFrag.append(el('tr', null, el('td', { colspan: '3', class: 'hint', text: t('missing.more', { n: late.length - MAX_MISSING_SHOWN }) })));
    }
    missingBody.replaceChildren(missingFrag);
    $('missing').hidden = late.length === 0;
    $('missing-empty').hidden = late.length > 0;
  }

  // ------------------------------------------------------------------ history
  // The upload tab's record: where the chosen month stands for the reporter
  // typed above (else the person's own unit), and the uploads of the month,
  // newest first, a page at a time (GET /api/v1/submissions).
  const HISTORY_PAGE = 20;

  function historyReporter() {
    return $('reporter').value.trim() || (state.me && state.me.expected_to_report ? state.me.org : '');
  }

  async function loadHistory(before) {
    if (!state.me || !parseMonth(state.period)) return;
    const reporter = historyReporter();
    const period = state.period;
    const q = new URLSearchParams({ period, limit: String(HISTORY_PAGE) });
    if (reporter) q.set('reporter', reporter);
    if (before) q.set('before', String(before));
    $('history-error').textContent = '';
    try {
      const { body } = await apiJson('/api/v1/submissions?' + q.toString());
      if (period !== state.period || reporter !== historyReporter()) return;
      if (!before) renderStanding(reporter ? body.month : undefined);
      renderHistory(body.submissions || [], !!before, body.next_before);
    } catch (err) {
      if (!before) {
        renderStanding(err.status === 404 ? null : undefined);
        renderHistory([], false, null);
      }
      if (err.status !== 404) $('history-error').textContent = errorText(err);
    }
  }

  /** month: the answer's standing; null: not a reporter here; undefined: nothing to say. */
  function renderStanding(month) {
    const box = $('month-standing');
    box.replaceChildren();
    delete box.dataset.status;
    delete box.dataset.locked;
    if (month === undefined) return;
    if (!month) {
      box.append(el('li', { class: 'hint', text: t('month.none') }));
      return;
    }
    box.dataset.status = month.status;
    box.dataset.locked = month.locked ? 'true' : 'false';
    const cls = STATUS_CLASS[month.status] || 'na';
    box.append(
      el('li', { class: 'month-of', text: t('month.of', { name: month.reporter_name, code: month.reporter, period: month.period, deadline: month.deadline }) }),
      el('li', { class: 'month-status' }, el('span', { class: 'pill ' + cls, text: t('month.status.' + month.status) }), month.nil_report ? ' ' : null, month.nil_report ? nilMark() : null),
    );
    if (month.review) box.append(el('li', { class: 'month-review', text: t('month.review.' + month.review) }));
    if (month.approved) box.append(el('li', { class: 'month-approved', text: t('month.approved') }));
    if (month.locked) {
      const why = [];
      if ((month.locked_by || '').includes('time') && month.closes_on) why.push(t('month.locked.time', { date: month.closes_on }));
      if ((month.locked_by || '').includes('approval')) why.push(t('month.locked.approval'));
      box.append(el('li', { class: 'month-lock locked' }, el('span', { class: 'pill bad', text: t('history.locked') }), ' ' + t('month.locked') + (why.length ? '（' + why.join('；') + '）' : '')));
    } else {
      box.append(el('li', { class: 'month-lock open', text: month.closes_on ? t('month.open', { date: month.closes_on }) : t('month.open.always') }));
    }
  }

  function renderHistory(rows, append, nextBefore) {
    const tbody = $('history').querySelector('tbody');
    const frag = document.createDocumentFragment();
    for (const r of rows) {
      const status = el('td', { class: 'status' }, el('span', { class: 'pill ' + statusClass({ result: r }), text: t('status.' + r.status) }));
      if (r.nil_report) status.append(' ', nilMark());
      if (r.review) status.append(' ', el('span', { class: 'pill ' + (r.review === 'approved' ? 'ok' : 'bad'), text: t('review.decision.' + r.review) }));
      if (r.locked) status.append(' ', el('span', { class: 'pill na locked', text: t('history.locked') }));
      frag.append(
        el(
          'tr',
          { 'data-id': String(r.id), 'data-status': r.status },
          el('th', { scope: 'row' }, el('button', { type: 'button', class: 'link show', 'aria-label': t('history.show', { id: r.id }), text: '#' + r.id, onclick: () => showSubmission(r) })),
          el('td', { class: 'reporter', text: r.reporter || t('none') }),
          el('td', { class: 'file', text: r.filename || t('none') }),
          status,
          el('td', { class: 'counts', text: t('review.issues', { errors: r.error_count, warnings: r.warning_count }) }),
          el('td', { class: 'at', text: fmtInstant(r.received_at) }),
        ),
      );
    }
    if (append) tbody.append(frag);
    else tbody.replaceChildren(frag);
    const any = tbody.children.length > 0;
    $('history').hidden = !any;
    $('history-empty').hidden = any;
    const more = $('history-more');
    more.hidden = !nextBefore;
    more.dataset.before = nextBefore ? String(nextBefore) : '';
  }

  /** A listed submission's report, as a card among the uploads (polled until final). */
  function showSubmission(r) {
    let u = state.uploads.find((x) => x.id === r.id && !x.dry);
    if (!u) {
      u = { local: nextLocal(), file: r.filename || '#' + r.id, id: r.id, dry: false, result: null };
      state.uploads.unshift(u);
      renderUploadsEmpty();
      renderUpload(u);
      saveUploads();
      poll(u);
    }
    const card = $('uploads').querySelector('li[data-local="' + u.local + '"]');
    if (card) card.scrollIntoView({ block: 'nearest' });
  }

  /** The 零报告 mark of a nil report (reported, with no figures). */
  function nilMark() {
    return el('span', { class: 'pill na nil-report', title: t('nil.title'), text: t('nil.mark') });
  }

  // ---------------------------------------------------------------- reminders
  // The month's sent log of 催报 for the node shown, and its list to chase.
  async function loadReminders(code, comp) {
    const period = state.period;
    $('reminders-error').textContent = '';
    try {
      const { body } = await apiJson('/api/v1/orgs/' + enc(code) + '/reminders?period=' + enc(period));
      if (code !== currentNode().code || period !== state.period) return;
      renderReminders(body.reminders || [], comp);
    } catch (err) {
      renderReminders([], comp);
      $('reminders-error').textContent = errorText(err);
    }
  }

  function renderReminders(rows, comp) {
    const names = new Map();
    if (comp) for (const r of comp.reporters || []) names.set(r.code, r.name);
    const STATUS = { sent: 'ok', failed: 'bad', unreachable: 'partial', sending: 'pending' };
    const frag = document.createDocumentFragment();
    for (const r of rows.slice(0, MAX_MISSING_SHOWN)) {
      const at = r.sent_at || r.attempted_at;
      frag.append(
        el(
          'tr',
          { 'data-code': r.org, 'data-kind': r.kind, 'data-status': r.status },
          el('th', { scope: 'row' }, el('span', { text: names.get(r.org) || r.org }), el('small', { class: 'code', text: r.org })),
          el('td', { class: 'kind', text: t('reminders.kind.' + r.kind) }),
          el(
            'td',
            { class: 'delivery', title: r.error || '' },
            el('span', { class: 'pill ' + (STATUS[r.status] || 'na'), text: t('reminders.status.' + r.status) }),
            r.attempts > 1 ? ' ' + t('reminders.attempts', { n: r.attempts }) : null,
          ),
          el('td', { class: 'address', text: r.address || t('none') }),
          el('td', { class: 'at', text: fmtInstant(at) }),
        ),
      );
    }
    if (rows.length > MAX_MISSING_SHOWN) {
      frag.append(el('tr', null, el('td', { colspan: '5', class: 'hint', text: t('reminders.more', { n: rows.length - MAX_MISSING_SHOWN }) })));
    }
    $('reminders').querySelector('tbody').replaceChildren(frag);
    $('reminders').hidden = rows.length === 0;
    $('reminders-empty').hidden = rows.length > 0;
  }

  // ------------------------------------------------------------ figures
  // The numerator and denominator of each rate, per child, sortable, with the
  // node's own figures as the totals row.
  const FIGURE_COLS = [
    { key: 'enterprises_required', rate: 'unionisation_rate', part: 'denominator' },
    { key: 'unions_established', rate: 'unionisation_rate', part: 'numerator' },
    { key: 'employees', rate: 'membership_rate', part: 'denominator' },
    { key: 'members', rate: 'membership_rate', part: 'numerator' },
    { key: 'expected_reporters', rate: 'reporting_rate', part: 'denominator' },
    { key: 'reported_reporters', rate: 'reporting_rate', part: 'numerator' },
  ];

  /** A figure of an indicators answer (a node or a child); null when unreported. */
  function figureOf(view, col) {
    const rate = (view.indicators || {})[col.rate];
    const v = rate ? rate[col.part] : null;
    return typeof v === 'number' && isFinite(v) ? v : null;
  }

  function figureCells(view) {
    return FIGURE_COLS.map((col) => {
      const v = figureOf(view, col);
      return el('td', { class: col.key, 'data-value': v === null ? '' : String(v), text: fmtNum(v) });
    });
  }

  function renderFigures() {
    const view = state.figures;
    const table = $('figures');
    if (!view) return;
    const sort = state.figSort;
    const heads = [{ key: 'name', label: t('col.unit') }].concat(FIGURE_COLS.map((c) => ({ key: c.key, label: t('fig.' + c.key) })));
    table.querySelector('thead tr').replaceChildren(
      ...heads.map((h) =>
        el(
          'th',
          { scope: 'col', class: h.key, 'aria-sort': sort.key === h.key ? (sort.dir > 0 ? 'ascending' : 'descending') : null },
          el('button', {
            type: 'button',
            text: h.label,
            'aria-label': t('fig.sort', { col: h.label }),
            onclick: () => {
              // A new column sorts largest first (names: A to Z); again reverses.
              state.figSort = sort.key === h.key ? { key: h.key, dir: -sort.dir } : { key: h.key, dir: h.key === 'name' ? 1 : -1 };
              renderFigures();
            },
          }),
        ),
      ),
    );
    const children = (view.children || []).slice();
    if (sort.key) {
      const col = FIGURE_COLS.find((c) => c.key === sort.key);
      const keyOf = (c) => (col ? figureOf(c, col) : c.name || '');
      children.sort((a, b) => {
        const x = keyOf(a);
        const y = keyOf(b);
        // Unreported figures go last whichever way the column runs.
        if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
        const order = typeof x === 'number' ? x - y : String(x).localeCompare(String(y), 'zh-CN');
        return order * sort.dir;
      });
    }
    table.querySelector('tbody').replaceChildren(
      ...children.map((c) =>
        el('tr', { 'data-code': c.org }, el('th', { scope: 'row' }, el('span', { text: c.name }), el('small', { class: 'code', text: c.org })), ...figureCells(c)),
      ),
    );
    table
      .querySelector('tfoot')
      .replaceChildren(el('tr', { 'data-code': view.org }, el('th', { scope: 'row', text: t('figures.total') }), ...figureCells(view)));
    $('figures-card').hidden = children.length === 0;
  }

  function rateCell(code, rate, comparisons) {
    const value = rate && typeof rate.value === 'number' ? rate.value : null;
    const td = el('td', { class: 'rate ' + code });
    td.append(el('span', { class: 'value', 'data-value': value === null ? '' : String(value), text: fmtPct(value) }), bar(value));
    const changes = changeLine(comparisons, code);
    if (changes) td.append(changes);
    if (rate && rate.numerator !== null && rate.numerator !== undefined) {
      td.title = fmtNum(rate.numerator) + ' / ' + fmtNum(rate.denominator);
    }
    return td;
  }

  // ------------------------------------------------------------------ review
  // Review and return (审核与退回): the reviewer's queue of the reports
  // directly under the node shown, and the reporter's own report's review.
  const REVIEW_CLASS = { accepted: 'pending', reviewed: 'ok', returned: 'bad', pending: 'pending', rejected: 'bad', missing: 'na' };

  /** "Returned: comment" and who, when — for a review of a submission. */
  function reviewLine(review, cls) {
    const who = t('review.by', {
      decision: t('review.decision.' + review.decision),
      by: review.reviewer_org ? review.reviewed_by + ' (' + review.reviewer_org + ')' : review.reviewed_by,
      at: fmtInstant(review.reviewed_at),
    });
    const wrap = el('div', { class: 'review-line ' + cls, 'data-decision': review.decision });
    if (review.decision === 'returned' && review.comment) {
      wrap.append(el('p', { class: 'review-comment', text: t('review.note', { comment: review.comment }) }));
    } else if (review.comment) {
      wrap.append(el('p', { class: 'review-comment', text: review.comment }));
    }
    wrap.append(el('p', { class: 'meta review-by', text: who }));
    return wrap;
  }

  /** An RFC 3339 instant as "2026-12-06 08:30 UTC" (the service stores UTC). */
  function fmtInstant(at) {
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(at || '');
    return m ? m[1] + ' ' + m[2] + ' UTC' : String(at || '');
  }

  /** A count's change in percent, a rate's in points, signed; a dash without one. */
  function fmtChange(figures, code) {
    const f = (figures || []).find((x) => x.code === code);
    if (!f || typeof f.change !== 'number') return t('none');
    const sign = f.change > 0 ? '+' : '';
    return sign + f.change.toFixed(2) + (f.kind === 'rate' ? ' pt' : '%');
  }

  async function loadOwnReview() {
    const me = state.me;
    const card = $('own-review-card');
    if (!me || !me.expected_to_report || !state.period) {
      card.hidden = true;
      return;
    }
    const period = state.period;
    try {
      const { body } = await apiJson('/api/v1/orgs/' + enc(me.org) + '/reviews?period=' + enc(period));
      if (period !== state.period) return;
      renderOwnReview(body.own);
    } catch (err) {
      $('own-review').replaceChildren(el('p', { class: 'error', text: errorText(err) }));
    }
    card.hidden = false;
  }

  function renderOwnReview(own) {
    const box = $('own-review');
    const status = own ? own.status : 'missing';
    box.dataset.status = status;
    const parts = [el('p', null, el('span', { class: 'pill ' + (REVIEW_CLASS[status] || 'na'), text: t('review.status.' + status) }), ' ', t('own.' + status))];
    if (own && own.review) parts.push(reviewLine(own.review, 'own-review'));
    box.replaceChildren(...parts);
  }

  async function loadReviews() {
    const node = currentNode();
    const card = $('review-card');
    if (!node || !state.period || state.tree !== 'as_reported') {
      card.hidden = true;
      return;
    }
    const code = node.code;
    const period = state.period;
    $('review-error').textContent = '';
    try {
      const { body } = await apiJson('/api/v1/orgs/' + enc(code) + '/reviews?period=' + enc(period));
      if (currentNode() !== node || period !== state.period) return;
      renderReviews(body);
    } catch (err) {
      // A grassroots union has no queue; anything else is said.
      if (err.status === 422) {
        card.hidden = true;
        return;
      }
      $('review-error').textContent = errorText(err);
    }
  }

  function renderReviews(queue) {
    const card = $('review-card');
    const children = queue.children || [];
    card.hidden = false;
    card.dataset.org = queue.org;
    $('review-summary').textContent = children.length
      ? t('review.summary', {
          period: queue.period,
          unreviewed: queue.unreviewed,
          reviewed: queue.reviewed,
          returned: queue.returned,
          previous: queue.previous_period,
        })
      : '';
    const frag = document.createDocumentFragment();
    for (const c of children) {
      const issues = typeof c.error_count === 'number' ? t('review.issues', { errors: c.error_count, warnings: c.warning_count }) : t('none');
      const action = el('td', { class: 'review-action' });
      if (c.can_review) {
        if (c.status === 'accepted') {
          action.append(el('button', { type: 'button', class: 'approve', text: t('review.approve'), onclick: () => sendReview(c, 'approve', null) }));
        }
        action.append(el('button', { type: 'button', class: 'return', text: t('review.return'), onclick: (ev) => openReturn(c, ev.target.closest('tr')) }));
      }
      if (c.review) action.append(reviewLine(c.review, 'queue-review'));
      frag.append(
        el(
          'tr',
          { 'data-code': c.org, 'data-status': c.status },
          el('th', { scope: 'row' }, el('span', { text: c.name }), el('small', { class: 'code', text: c.org })),
          el('td', null, el('span', { class: 'pill ' + (REVIEW_CLASS[c.status] || 'na'), text: t('review.status.' + c.status) })),
          el('td', { class: 'issues-count', text: issues }),
          el('td', { class: 'change members', text: fmtChange(c.figures, 'members') }),
          el('td', { class: 'change membership_rate', text: fmtChange(c.figures, 'membership_rate') }),
          action,
        ),
      );
      if ((c.explanations || []).length) frag.append(explanationsRow(c));
    }
    $('review-queue').querySelector('tbody').replaceChildren(frag);
    $('review-queue').hidden = children.length === 0;
    $('review-empty').hidden = children.length > 0;
  }

  /** Under a reporter's row: every explained exception (说明) of its report. */
  function explanationsRow(c) {
    const list = el('ul', { class: 'explained' });
    for (const x of c.explanations) {
      const where = x.sheet && x.cell ? x.sheet + '!' + x.cell : x.cell || '';
      const title = state.lang === 'en' ? x.title_en || x.rule : x.title_zh || x.rule;
      list.append(
        el('li', {
          class: 'explained-issue',
          'data-rule': x.rule,
          'data-cell': x.cell || '',
          text: t('explain.line', { where, unit: x.unit || '', value: x.value || '', title, text: x.explanation }),
        }),
      );
    }
    return el(
      'tr',
      { class: 'explanations', 'data-code': c.org },
      el('td', { colspan: '6' }, el('p', { class: 'meta', text: t('explain.review') }), list),
    );
  }

  /** The comment form under a reporter's row: a return needs a comment. */
  function openReturn(entry, row) {
    const old = $('review-queue').querySelector('tr.return-form');
    if (old) old.remove();
    const id = 'return-comment-' + entry.org;
    const area = el('textarea', { id, class: 'return-comment', maxlength: '500', rows: '3', required: true });
    const error = el('p', { class: 'error', role: 'alert' });
    const form = el(
      'tr',
      { class: 'return-form', 'data-code': entry.org },
      el(
        'td',
        { colspan: '6' },
        el('label', { for: id, text: t('review.comment') }),
        area,
        el('button', {
          type: 'button',
          class: 'primary confirm-return',
          text: t('review.confirm'),
          onclick: () => {
            const comment = area.value.trim();
            if (!comment) {
              error.textContent = t('review.comment.need');
              area.focus();
              return;
            }
            sendReview(entry, 'return', comment);
          },
        }),
        ' ',
        el('button', { type: 'button', class: 'cancel-return', text: t('review.cancel'), onclick: () => form.remove() }),
        error,
      ),
    );
    row.after(form);
    area.focus();
  }

  async function sendReview(entry, decision, comment) {
    $('review-error').textContent = '';
    try {
      await apiJson('/api/v1/submissions/' + enc(entry.submission_id) + '/review', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(comment === null ? { decision } : { decision, comment }),
      });
      announce(t(decision === 'approve' ? 'review.done.approved' : 'review.done.returned', { name: entry.name }));
    } catch (err) {
      $('review-error').textContent = refusalText(err);
    }
    // The queue, the counts and completeness all move with a review.
    loadRollups();
  }

  // -------------------------------------------------------------------- series
  /** Twelve months ending at the chosen period, for the current node. */
  async function loadSeries() {
    const node = currentNode();
    if (!node || !state.period) return;
    const seq = ++state.seriesSeq;
    const indicator = $('series-indicator').value;
    const to = state.period;
    const from = addMonths(to, -11);
    const note = $('series-note');
    note.textContent = t('loading');
    let points = null;
    let fallback = false;
    if (!state.seriesMissing) {
      try {
        const { body } = await apiJson(
          '/api/v1/orgs/' + enc(node.code) + '/series?indicator=' + enc(indicator) + '&from=' + enc(from) + '&to=' + enc(to) + '&tree=' + enc(state.tree),
        );
        points = seriesPoints(body);
        if (typeof body.full_coverage_share === 'number') state.share = Math.round(body.full_coverage_share * 100) + '%';
      } catch (err) {
        if (err.status === 404 || err.status === 405) state.seriesMissing = true;
        else if (seq === state.seriesSeq) {
          note.textContent = t('series.failed');
          $('chart').replaceChildren();
          return;
        }
      }
    }
    if (points === null) {
      fallback = true;
      try {
        points = await seriesFromMonths(node.code, indicator, from, to);
      } catch (_) {
        if (seq === state.seriesSeq) {
          note.textContent = t('series.failed');
          $('chart').replaceChildren();
        }
        return;
      }
    }
    if (seq !== state.seriesSeq) return;
    drawChart(points, indicator, from, to);
    const parts = [t('series.months', { from, to }), t('series.axis')];
    if (!points.some((p) => p.value !== null)) parts.push(t('series.empty'));
    if (fallback) parts.push(t('series.fallback'));
    if (points.some((p) => p.partial)) parts.push(t('series.partial', { share: state.share || '90%' }));
    note.textContent = parts.join(' ');
  }

  /** Reads the series answer: an array of {period, value, …} under a few likely names. */
  function seriesPoints(body) {
    const list = Array.isArray(body)
      ? body
      : body.points || body.series || body.values || body.months || body.data || [];
    return list
      .map((p) => {
        const rate = p.rate || p;
        const value = typeof rate.value === 'number' ? rate.value : null;
        return {
          period: String(p.period || p.month || ''),
          value,
          numerator: rate.numerator,
          denominator: rate.denominator,
          partial: p.partial === true,
          units: p.reported_units,
        };
      })
      .filter((p) => parseMonth(p.period));
  }

  async function seriesFromMonths(code, indicator, from, to) {
    const months = [];
    for (let p = from; p && p <= to; p = addMonths(p, 1)) months.push(p);
    const answers = await Promise.all(
      months.map((p) =>
        apiJson('/api/v1/orgs/' + enc(code) + '/indicators?period=' + enc(p) + '&tree=' + enc(state.tree))
          .then((r) => r.body)
          .catch((err) => {
            if (err.status === 422) return null; // e.g. a month the server refuses
            throw err;
          }),
      ),
    );
    return months.map((period, i) => {
      const rate = answers[i] && answers[i].indicators ? answers[i].indicators[indicator] : null;
      return {
        period,
        value: rate && typeof rate.value === 'number' ? rate.value : null,
        numerator: rate ? rate.numerator : null,
        denominator: rate ? rate.denominator : null,
      };
    });
  }

  function drawChart(points, indicator, from, to) {
    const box = $('chart');
    // Drawn at the box's own width, so the labels keep their size on a phone.
    const W = Math.max(300, Math.min(960, Math.round(box.clientWidth) || 720));
    const H = 240;
    const pad = { l: 56, r: 16, t: 16, b: 36 };
    const values = points.map((p) => p.value).filter((v) => v !== null);
    // The axis runs from 0 to 100 %, so a change of a point looks like one
    // (a rate above 100 % stretches it to the next tenth).
    const lo = 0;
    const top = values.length ? Math.max(...values) : 1;
    const hi = top > 1 ? Math.ceil(top * 10) / 10 : 1;
    const n = Math.max(points.length, 1);
    const x = (i) => pad.l + (n === 1 ? (W - pad.l - pad.r) / 2 : (i * (W - pad.l - pad.r)) / (n - 1));
    const y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * (H - pad.t - pad.b);
    const label = t('series.aria', { indicator: t('ind.' + indicator), from, to });
    const chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': label, class: 'series', preserveAspectRatio: 'xMidYMid meet', 'data-y-min': lo, 'data-y-max': hi });
    chart.append(svg('title', {}, label));
    for (let k = 0; k <= 4; k++) {
      const v = lo + ((hi - lo) * k) / 4;
      const yy = y(v);
      chart.append(svg('line', { x1: pad.l, x2: W - pad.r, y1: yy, y2: yy, class: k === 0 ? 'grid-line axis-zero' : 'grid-line' }));
      chart.append(svg('text', { x: pad.l - 6, y: yy + 4, class: 'axis', 'text-anchor': 'end' }, (v * 100).toFixed(1) + '%'));
    }
    // About 60 px per month label.
    const step = Math.max(1, Math.ceil(n / Math.max(1, Math.floor((W - pad.l - pad.r) / 60))));
    points.forEach((p, i) => {
      // Every step-th month and the last, never two labels closer than a step.
      if (i !== n - 1 && (i % step !== 0 || n - 1 - i < step)) return;
      chart.append(svg('text', { x: x(i), y: H - 12, class: 'axis', 'text-anchor': 'middle' }, p.period.slice(2)));
    });
    // One path per run of months with figures: a missing month is a gap, not a zero.
    let d = '';
    let pen = false;
    points.forEach((p, i) => {
      if (p.value === null) {
        pen = false;
        return;
      }
      d += (pen ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(p.value).toFixed(1);
      pen = true;
    });
    if (d) chart.append(svg('path', { d, class: 'line' }));
    points.forEach((p, i) => {
      if (p.value === null) return;
      const dot = svg('circle', {
        cx: x(i),
        cy: y(p.value),
        r: p.partial ? 5 : 4,
        class: 'dot' + (p.partial ? ' partial' : ''),
        'data-period': p.period,
      });
      const partial = p.partial ? ' (' + t('series.partialPoint', { units: p.units }) + ')' : '';
      dot.append(svg('title', {}, p.period + ': ' + fmtPct(p.value) + partial));
      chart.append(dot);
    });
    // The same figures as a table for screen readers.
    const rows = points.map((p) =>
      el('tr', null, el('th', { scope: 'row', text: p.period }), el('td', { text: fmtPct(p.value) + (p.partial ? ' ' + t('partial.mark') : '') })),
    );
    const table = el('table', { class: 'visually-hidden' }, el('caption', { text: label }), el('tbody', null, ...rows));
    box.replaceChildren(chart, table);
  }

  // ------------------------------------------------------------------- events
  // ------------------------------------------------------------ entry (网页填报)
  // The figures of a reporter's units typed in the page: kept in entry.values,
  // checked by a debounced dry run, submitted as POST /api/v1/entry/…, whose
  // workbook then shows in the uploads list like an upload.
  const entry = { form: null, values: {}, issues: [], seq: 0, timer: null, unit: 0 };
  const phone = window.matchMedia('(max-width: 640px)');

  function entryReporter() {
    return $('reporter').value.trim() || (state.me && state.me.org) || '';
  }

  function entryPath() {
    return '/api/v1/entry/' + enc(entry.form.reporter) + '/' + enc(entry.form.period);
  }

  async function openEntry() {
    $('entry-error').textContent = '';
    const reporter = entryReporter();
    if (!reporter || !parseMonth(state.period)) {
      $('entry-error').textContent = t('upload.template.need');
      return;
    }
    try {
      const { body } = await apiJson('/api/v1/entry/' + enc(reporter) + '/' + enc(state.period));
      entry.form = body;
      entry.values = {};
      for (const u of body.units) entry.values[u.code] = Object.assign({}, u.figures || {});
      entry.issues = [];
      entry.unit = 0;
      $('entry-head').textContent = t('entry.head', { name: body.reporter_name, code: body.reporter, period: body.period, units: body.units.length });
      $('entry-head').hidden = false;
      $('entry-submit').hidden = !body.units.length || state.me.role === 'viewer';
      $('entry-check').textContent = body.units.length ? '' : t('entry.none');
      renderEntry();
    } catch (err) {
      $('entry-error').textContent = errorText(err);
    }
  }

  /** The issues of the last check by cell ("F5"), and those at no unit's cell. */
  function entryIssuesByCell() {
    const at = {};
    const rest = [];
    const rows = new Set(entry.form.units.map((u) => u.row));
    const cols = new Set(entry.form.metrics.map((m) => m.column));
    for (const i of entry.issues) {
      const m = /^([A-Z]+)(\d+)$/.exec(i.cell || '');
      if (m && i.sheet === entry.form.sheet && cols.has(m[1]) && rows.has(Number(m[2]))) (at[i.cell] = at[i.cell] || []).push(i);
      else rest.push(i);
    }
    return { at, rest };
  }

  /** An issue's message at its own cell: without the leading 'sheet!cell (unit):' it repeats. */
  function cellMessage(i) {
    return inLang(i.message).replace(/^[^：:]*![A-Z]+\d+[^：:]*[：:]\s*/, '');
  }

  function entryInput(u, m, issues) {
    const v = entry.values[u.code][m.code];
    const cell = m.column + u.row;
    const prev = u.previous && u.previous[m.code];
    const input = el('input', {
      type: 'text',
      inputmode: m.decimals ? 'decimal' : 'numeric',
      class: 'entry-input',
      'data-unit': u.code,
      'data-metric': m.code,
      'data-cell': cell,
      value: v === undefined || v === null ? '' : String(v),
      placeholder: typeof prev === 'number' ? t('entry.previous', { value: fmtNum(prev) }) : '',
      'aria-label': u.name + ' · ' + (state.lang === 'zh' ? m.zh : m.en),
    });
    const box = el('div', { class: 'entry-cell' }, input);
    if (issues && issues.length) {
      const bad = issues.some((i) => i.severity === 'error');
      input.classList.add(bad ? 'cell-error' : 'cell-warning');
      input.setAttribute('aria-invalid', bad ? 'true' : 'false');
      const id = 'entry-msg-' + cell;
      input.setAttribute('aria-describedby', id);
      box.append(el('small', { id, class: 'cell-msg', text: issues.map(cellMessage).join(' ') }));
    }
    input.addEventListener('input', () => {
      const raw = input.value.trim().replace(/[,，\s]/g, '');
      if (raw === '') delete entry.values[u.code][m.code];
      else entry.values[u.code][m.code] = raw;
      scheduleCheck();
    });
    return box;
  }

  function renderEntry() {
    const f = entry.form;
    const grid = $('entry-grid');
    const { at, rest } = entryIssuesByCell();
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.cell : null;
    grid.textContent = '';
    grid.hidden = !f || !f.units.length;
    $('entry-unit-pick').hidden = grid.hidden || !phone.matches;
    if (grid.hidden) return;
    const name = (m) => (state.lang === 'zh' ? m.zh : m.en);
    if (phone.matches) {
      // One unit at a time, as a form: a label above each field.
      const pick = $('entry-unit');
      pick.textContent = '';
      f.units.forEach((u, i) => {
        const marks = f.metrics.some((m) => at[m.column + u.row]) ? ' ⚠' : '';
        pick.append(el('option', { value: String(i), text: u.code + ' ' + u.name + marks }));
      });
      entry.unit = Math.min(entry.unit, f.units.length - 1);
      pick.value = String(entry.unit);
      const u = f.units[entry.unit];
      const form = el('div', { class: 'entry-form' });
      for (const m of f.metrics) {
        const box = entryInput(u, m, at[m.column + u.row]);
        const label = el('label', { class: 'entry-label' }, el('span', { text: name(m) }), box);
        form.append(label);
      }
      grid.append(form);
    } else {
      const head = el('tr', {}, el('th', { scope: 'col', class: 'sticky entry-code', text: t('entry.col.code') }), el('th', { scope: 'col', class: 'sticky entry-name', text: t('entry.col.name') }));
      for (const m of f.metrics) head.append(el('th', { scope: 'col', title: m.code, text: name(m) }));
      const body = el('tbody');
      for (const u of f.units) {
        const tr = el('tr', { 'data-unit': u.code }, el('th', { scope: 'row', class: 'sticky entry-code', text: u.code }), el('th', { scope: 'row', class: 'sticky entry-name', text: u.name }));
        for (const m of f.metrics) tr.append(el('td', {}, entryInput(u, m, at[m.column + u.row])));
        body.append(tr);
      }
      grid.append(el('table', { class: 'grid entry-table' }, el('thead', {}, head), body));
    }
    const list = $('entry-issues');
    list.textContent = '';
    for (const i of rest) list.append(el('li', { class: i.severity === 'error' ? 'bad' : 'warn', text: (i.cell ? i.cell + ' ' : '') + inLang(i.message) }));
    if (focused) {
      const again = grid.querySelector('input[data-cell="' + focused + '"]');
      if (again) {
        const end = again.value.length;
        again.focus();
        again.setSelectionRange(end, end);
      }
    }
  }

  /** The body of an entry: the numbers typed (text that is not a number is left to the check). */
  function entryBody(dry) {
    const units = entry.form.units.map((u) => {
      const figures = {};
      for (const [k, v] of Object.entries(entry.values[u.code] || {})) {
        const n = Number(v);
        figures[k] = v === null || v === '' ? null : n;
      }
      return { code: u.code, figures };
    });
    return { units, preparer: $('entry-preparer').value, phone: $('entry-phone').value, nil_report: $('entry-nil').checked, dry_run: dry };
  }

  /** The typed text that is not a number, by cell. */
  function entryNotNumbers() {
    const out = [];
    for (const u of entry.form.units) {
      for (const m of entry.form.metrics) {
        const v = (entry.values[u.code] || {})[m.code];
        if (v !== undefined && v !== null && v !== '' && !isFinite(Number(v))) out.push({ severity: 'error', rule: 'not_a_number', sheet: entry.form.sheet, cell: m.column + u.row, message: { zh: t('entry.number'), en: t('entry.number') } });
      }
    }
    return out;
  }

  function scheduleCheck() {
    clearTimeout(entry.timer);
    // A viewer may look at the form; checking is an upload's right.
    if (!state.me || state.me.role === 'viewer') return;
    entry.timer = setTimeout(checkEntry, 500);
  }

  async function checkEntry() {
    if (!entry.form) return;
    const seq = ++entry.seq;
    const typed = entryNotNumbers();
    if (typed.length) {
      entry.issues = typed;
      $('entry-check').textContent = t('entry.bad', { errors: typed.length, warnings: 0 });
      renderEntry();
      return;
    }
    $('entry-check').textContent = t('entry.checking');
    try {
      const { body } = await apiJson(entryPath(), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(entryBody(true)) });
      if (seq !== entry.seq) return;
      entry.issues = Array.isArray(body.issues) ? body.issues : [];
      $('entry-error').textContent = '';
      $('entry-check').textContent =
        body.status === 'accepted'
          ? body.warning_count
            ? t('entry.warn', { warnings: body.warning_count })
            : t('entry.ok')
          : t('entry.bad', { errors: body.error_count, warnings: body.warning_count });
      renderEntry();
    } catch (err) {
      if (seq !== entry.seq) return;
      $('entry-check').textContent = '';
      $('entry-error').textContent = errorText(err);
    }
  }

  async function submitEntry() {
    if (!entry.form) return;
    $('entry-error').textContent = '';
    if (entryNotNumbers().length) {
      await checkEntry();
      return;
    }
    const f = entry.form;
    const sent = { path: entryPath(), body: entryBody(false), reporter: f.reporter, period: f.period };
    try {
      await sendEntry(sent);
    } catch (err) {
      $('entry-error').textContent = err.status === 403 && /is locked/.test(err.message) ? t('uploads.locked.refused') : errorText(err);
    }
  }

  /** Submits entered figures (again, with explanations) and follows the submission in the uploads list. */
  async function sendEntry(sent) {
    const file = '网页填报-' + sent.reporter + '-' + sent.period + '.xlsx';
    const u = { local: nextLocal(), file, id: null, dry: false, nil: false, result: null, reporter: sent.reporter, period: sent.period, notes: {}, entry: sent };
    const { status, body } = await apiJson(sent.path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(sent.body) });
    u.id = body.id;
    u.duplicate = status === 200;
    u.result = { id: body.id, status: body.status, issues: [] };
    state.uploads.unshift(u);
    renderUploadsEmpty();
    saveUploads();
    renderUpload(u);
    poll(u);
    const item = $('uploads').querySelector('li[data-local="' + u.local + '"]');
    if (item) item.scrollIntoView({ block: 'nearest' });
  }

  function wireEntry() {
    $('entry-open').addEventListener('click', openEntry);
    $('entry-submit').addEventListener('click', submitEntry);
    $('entry-nil').addEventListener('change', () => entry.form && scheduleCheck());
    $('entry-unit').addEventListener('change', () => {
      entry.unit = Number($('entry-unit').value) || 0;
      renderEntry();
    });
    phone.addEventListener('change', () => entry.form && renderEntry());
  }

  function setPeriod(p, reload) {
    if (!parseMonth(p)) {
      $('upload-error').textContent = t('upload.period.bad');
      return;
    }
    $('upload-error').textContent = '';
    state.period = p;
    $('period').value = p;
    if (reload) {
      loadReporters();
      loadOwnReview();
      loadHistory();
      if (currentTab() === 'rollups') loadRollups();
    }
  }

  function wire() {
    $('signin-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const login = $('login').value.trim();
      const password = $('password').value;
      const error = $('signin-error');
      error.textContent = '';
      // Why the form came back (expired, signed out) is old news once one tries again.
      setNotice(null);
      if (!login || !password) {
        error.textContent = t('signin.empty');
        $(login ? 'password' : 'login').focus();
        return;
      }
      $('signin').disabled = true;
      try {
        await signIn(login, password);
      } catch (err) {
        if (err.status === 401) error.textContent = t('signin.bad');
        else if (err.status === 429) error.textContent = t('signin.throttled', { wait: waitText(err.retryAfter) });
        else error.textContent = errorText(err);
        $('password').focus();
      } finally {
        // The password is not kept a moment longer than the request needs it.
        $('password').value = '';
        $('signin').disabled = false;
      }
    });
    $('signout').addEventListener('click', signOut);
    $('lang').addEventListener('click', () => {
      state.lang = state.lang === 'zh' ? 'en' : 'zh';
      safeStorage(localStorage, 'set', LANG_STORE, state.lang);
      applyStatic();
      renderNotice();
      renderWho();
      for (const u of state.uploads) renderUpload(u);
      if (state.me) loadOwnReview();
      if (state.me) loadHistory();
      if (state.me && currentTab() === 'rollups') loadRollups();
    });
    $('tab-upload').addEventListener('click', () => selectTab('upload'));
    $('tab-rollups').addEventListener('click', () => selectTab('rollups'));
    for (const id of ['tab-upload', 'tab-rollups']) {
      $(id).addEventListener('keydown', (ev) => {
        if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
        const next = currentTab() === 'upload' ? 'rollups' : 'upload';
        selectTab(next);
        $('tab-' + next).focus();
      });
    }
    $('period').addEventListener('change', () => setPeriod($('period').value, true));
    $('period-prev').addEventListener('click', () => setPeriod(addMonths(state.period, -1), true));
    $('period-next').addEventListener('click', () => setPeriod(addMonths(state.period, 1), true));

    const file = $('file');
    file.addEventListener('change', () => {
      const files = [...file.files];
      file.value = '';
      uploadFiles(files);
    });
    const drop = $('drop');
    drop.addEventListener('dragover', (ev) => {
      ev.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (ev) => {
      ev.preventDefault();
      drop.classList.remove('over');
      if (file.disabled) return;
      const files = ev.dataTransfer ? [...ev.dataTransfer.files] : [];
      if (files.length) uploadFiles(files);
    });
    // A file dropped outside the zone must not make the browser leave the page.
    window.addEventListener('dragover', (ev) => ev.preventDefault());
    window.addEventListener('drop', (ev) => ev.preventDefault());

    $('template').addEventListener('click', () => {
      const reporter = $('reporter').value.trim();
      $('upload-error').textContent = '';
      if (!reporter || !parseMonth(state.period)) {
        $('upload-error').textContent = t('upload.template.need');
        return;
      }
      download('/api/v1/templates/' + enc(reporter) + '/' + enc(state.period) + '.xlsx', reporter + '_' + state.period + '.xlsx').catch((err) => {
        $('upload-error').textContent = errorText(err);
      });
    });
    $('tree').addEventListener('change', () => {
      state.tree = $('tree').value === 'current' ? 'current' : 'as_reported';
      loadRollups();
    });
    $('form-pick').addEventListener('change', loadFormFigures);
    $('period-kind').addEventListener('change', () => {
      const kind = $('period-kind').value;
      state.periodKind = ['quarter', 'year', 'sy'].includes(kind) ? kind : 'month';
      loadRollups();
    });
    $('export').addEventListener('click', () => {
      const node = currentNode();
      if (!node) return;
      $('rollup-error').textContent = '';
      const period = rollupPeriod();
      download('/api/v1/orgs/' + enc(node.code) + '/export.xlsx?period=' + enc(period) + '&tree=' + enc(state.tree), node.code + '_' + period + '.xlsx').catch((err) => {
        $('rollup-error').textContent = err.status === 404 ? t('export.missing') : errorText(err);
      });
    });
    $('reporter').addEventListener('change', () => loadHistory());
    $('history-more').addEventListener('click', () => {
      const before = Number($('history-more').dataset.before);
      if (before) loadHistory(before);
    });
    $('chase-list').addEventListener('click', () => {
      const node = currentNode();
      if (!node) return;
      $('reminders-error').textContent = '';
      download('/api/v1/orgs/' + enc(node.code) + '/reminders.xlsx?period=' + enc(state.period), node.code + '_' + state.period + '_reminders.xlsx').catch((err) => {
        $('reminders-error').textContent = errorText(err);
      });
    });
    $('series-indicator').addEventListener('change', loadSeries);
    wireContact();
    wireEntry();
  }

  async function start() {
    applyStatic();
    wire();
    $('node-name').tabIndex = -1;
    setPeriod(lastMonth(), false);
    try {
      const session = await resumeSession();
      if (session) {
        enter(session);
        return;
      }
    } catch (err) {
      $('signin-error').textContent = errorText(err);
    }
    $('signin-view').hidden = false;
    $('login').focus();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
