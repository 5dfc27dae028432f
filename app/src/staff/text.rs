//! The staff console's own text, in English and Simplified Chinese, by the app's one mechanism
//! (`crate::i18n`, where the patient's app keeps its text), and the words for the shared types'
//! values. Compiled with the console only (feature `staff`).

use qol_shared::alerts::{Rule, Tier};
use qol_shared::api::{AlertState, MissedReason, ResolutionAction};
use qol_shared::schedule::{AssessmentState, OffStudyReason, TumourResponse};

crate::i18n::strings! {
    /// A string of the staff console.
    pub enum S {
        Console => "Staff console", "工作人员控制台";
        Admin => "Admin", "管理";
        StaffAccounts => "Staff accounts", "工作人员账户";
        StaffAccountsLead => "Every account that can sign in to this console. Disabling an account ends its sessions at once; every change is recorded in the audit trail.", "可登录本控制台的所有账户。停用账户会立即结束其所有会话；每项更改都会记入审计记录。";
        Username => "Username", "用户名";
        Role => "Role", "角色";
        AccountState => "State", "状态";
        LastSignIn => "Last sign-in", "上次登录";
        LiveSessions => "Live sessions", "有效会话";
        Actions => "Actions", "操作";
        Active => "Active", "启用";
        Disabled => "Disabled", "已停用";
        LockedUntil => "sign-in locked until", "登录锁定至";
        Never => "Never", "从未";
        NewAccount => "New account", "新建账户";
        StudySetup => "Study setup", "研究设置";
        StudySetupLead => "The protocol and the wording pack this server runs. A fingerprint (SHA-256) tells two versions apart: compare it with your protocol file's record.", "本服务器运行的研究方案和问卷文本包。指纹（SHA-256）可区分不同版本：请与方案文件的记录核对。";
        ProtocolHeading => "Protocol", "研究方案";
        SetupName => "Name", "名称";
        Fingerprint => "Fingerprint (SHA-256)", "指纹（SHA-256）";
        TimeZone => "Time zone", "时区";
        Cycles => "Chemotherapy cycles", "化疗周期数";
        Strata => "Strata", "分层";
        InductionCycles => "induction cycles", "个诱导周期";
        ScheduleHeading => "Schedule", "评估时间表";
        Questionnaires => "Questionnaires", "问卷";
        From => "From", "起点";
        WindowDays => "Window (days)", "时间窗（天）";
        Repeats => "Repeats", "重复";
        EveryDays => "every {n} days", "每 {n} 天";
        PrimaryPost => "Primary post-treatment", "主要治疗后评估";
        AlertsHeading => "Alert settings", "警报设置";
        ServiceLevel => "Service level (working days)", "服务时限（工作日）";
        DefaultChange => "Worsening that raises an alert (points)", "触发警报的恶化幅度（分）";
        RedChange => "Worsening that makes it red (points)", "升为红色警报的恶化幅度（分）";
        SevereSymptom => "Severe symptom (score at least)", "严重症状（分数不低于）";
        PoorFunction => "Poor function (score at most)", "功能差（分数不高于）";
        ChangePoints => "Per-scale worsening (points)", "各量表的恶化幅度（分）";
        InfoOnly => "Information only", "仅供参考";
        RedItems => "Items red at their worst answer", "最差回答即为红色警报的条目";
        WordingHeading => "Wording pack", "问卷文本包";
        Demonstration => "Demonstration wording", "演示文本";
        Licence => "Licence", "许可";
        Languages => "Languages", "语言";
        Yes => "Yes", "是";
        No => "No", "否";
        AnchorEnrolment => "enrolment", "入组";
        AnchorCycle1Day1 => "cycle 1 day 1", "第 1 周期第 1 天";
        AnchorInductionResponse => "induction response evaluation", "诱导治疗疗效评估";
        AnchorRadiotherapyEnd => "end of radiotherapy", "放疗结束";
        AnchorEndOfTreatment => "end of treatment", "治疗结束";
        MonthsAfter => "+{n} months", "+{n} 个月";
        StaffLockedOut => "Too many wrong tries. Wait a few minutes, or ask an admin to lift the lockout.", "错误次数过多。请等几分钟，或请管理员解除锁定。";
        UsernameTaken => "An account with this username already exists.", "已存在使用此用户名的账户。";
        UsernameRule => "A username has up to 64 letters, digits, '.', '_' and '-', and starts with a letter or digit.", "用户名最多 64 个字符，可包含字母、数字、“.”、“_”和“-”，并以字母或数字开头。";
        NewAccountLead => "The account gets no password: you are given a one-time code for its holder, who sets their own password with it.", "新账户没有密码：系统会给出一次性代码，由账户持有人用它设置自己的密码。";
        CreateAccount => "Create the account", "创建账户";
        ResetPassword => "Reset password", "重置密码";
        CodeFor => "One-time code for", "一次性代码，用户：";
        CodeHowTo => "Give it to them in person or by telephone, never by e-mail. They open the console's \"Set your password\" page (/staff/set-password), enter their username, this code and a password of their own. It works once; a newer code replaces it.", "请当面或通过电话告知，切勿通过电子邮件发送。对方打开控制台的“设置密码”页面（/staff/set-password），输入用户名、此代码和自己的密码。代码只能使用一次；新代码会使其失效。";
        CodeExpires => "It expires", "失效时间";
        SetPasswordTitle => "Set your password", "设置密码";
        SetPasswordLead => "With the one-time code your admin gave you: for a new account, or when you forgot your password.", "使用管理员给您的一次性代码：用于新账户，或忘记密码时。";
        SetPasswordLink => "Set your password with a code from your admin", "使用管理员提供的代码设置密码";
        Code => "One-time code", "一次性代码";
        NewPassword => "New password (at least 12 characters)", "新密码（至少 12 个字符）";
        NewPasswordAgain => "New password again", "再次输入新密码";
        PasswordsDiffer => "The two passwords are not the same.", "两次输入的密码不一致。";
        PasswordTooShort => "Use at least 12 characters.", "请至少使用 12 个字符。";
        CodeRefused => "This username and code do not match, or the code was used, replaced or has expired. Ask your admin for a new code.", "用户名与代码不匹配，或代码已使用、已被替换或已过期。请向管理员索取新代码。";
        PasswordSet => "Your password is set. Sign in with it now.", "密码已设置。请立即用它登录。";
        YourAccount => "Your account: another admin changes it.", "您自己的账户：请由另一位管理员更改。";
        Disable => "Disable", "停用";
        Enable => "Enable", "启用";
        SignOutEverywhere => "Sign out everywhere", "在所有设备上退出";
        UnlockStaff => "Lift the lockout", "解除锁定";
        AccountDisabled => "The account is disabled and its sessions have ended.", "账户已停用，其所有会话已结束。";
        AccountEnabled => "The account is enabled: it can sign in again.", "账户已启用，可以重新登录。";
        AccountSignedOut => "Every session of the account has ended.", "该账户的所有会话已结束。";
        AccountUnlocked => "The lockout is lifted: the account can try to sign in again.", "已解除锁定：该账户可以重新尝试登录。";
        RoleAdmin => "Admin", "管理员";
        RoleNurse => "Research nurse", "研究护士";
        RoleResearcher => "Researcher", "研究人员";
        RolePatient => "Patient", "患者";
        RemindersTitle => "Reminders", "提醒";
        RemindersLead => "When a questionnaire opens and while it is not done, the patient is reminded by the channel below.", "问卷开放时以及尚未填写期间，患者会通过下方渠道收到提醒。";
        RemindBy => "Remind by", "提醒方式";
        ChannelAuto => "Automatic (SMS, else e-mail, else push)", "自动（短信，其次邮件，其次推送）";
        ChannelSms => "SMS", "短信";
        ChannelEmail => "E-mail", "电子邮件";
        ChannelPush => "Push notification", "推送通知";
        ChannelOff => "No reminders (patient's choice)", "不提醒（患者选择）";
        GoesBy => "Reminders go by", "提醒将通过";
        Unreachable => "No reminder can reach this patient: add a phone number or e-mail, or ask her to turn on notifications.", "无法向该患者发送提醒：请添加手机号或电子邮件，或请患者开启通知。";
        RemindersOff => "Reminders are off.", "提醒已关闭。";
        StudySendsNone => "This study's protocol sends no reminders.", "本研究方案不发送提醒。";
        SiteSendsNone => "No reminder leaves this server yet: it has no SMS gateway, e-mail or push set up (see docs/reminders.md).", "本服务器尚未配置短信网关、电子邮件或推送，因此不会发送提醒（见 docs/reminders.md）。";
        Email => "E-mail (optional)", "电子邮件（可选）";
        PushDevices => "Devices with notifications on", "已开启通知的设备";
        SaveReminders => "Save reminder settings", "保存提醒设置";
        Saved => "Saved.", "已保存。";
        NoReminders => "No reminder has been sent yet.", "尚未发送提醒。";
        Queued => "Queued", "排队时间";
        Kind => "Reminder", "提醒";
        Channel => "Channel", "渠道";
        Outcome => "Outcome", "结果";
        KindWindowOpen => "Questionnaire open", "问卷已开放";
        KindNotDone => "Not done yet", "尚未完成";
        KindBeforeClose => "Closes tomorrow", "明天截止";
        MessagePending => "Waiting to be sent", "等待发送";
        MessageSent => "Sent", "已发送";
        MessageFailed => "Could not send", "无法发送";
        MessageCancelled => "Not sent", "未发送";
        Reminded => "Reminders", "提醒";
        RemindedTimes => "reminded", "已提醒";
        LastReminded => "last", "最近";
        LastReminderFailed => "the last reminder could not be sent", "最近一次提醒未能发送";
        Today => "today", "今天";
        DaysAgo => "days ago", "天前";
        Worklist => "Worklist", "待办事项";
        FollowUp => "Follow-up", "随访";
        Patients => "Patients", "患者";
        Research => "Research", "研究";
        SignOut => "Sign out", "退出登录";
        SignedInAs => "Signed in as", "当前用户";
        NotForPatients => "This is the staff console. Patients use the app's start page.", "这是工作人员控制台。患者请使用应用首页。";
        OpenPatientApp => "Open the patient app", "打开患者应用";
        NotYourRole => "Your role has no access to this page.", "您的角色无权访问此页面。";
        Refresh => "Refresh", "刷新";
        AlertsTitle => "Alert cards", "警报卡片";
        AlertsLead => "One card per patient: call requests first, then red, amber and info, oldest first.", "每位患者一张卡片：回电请求在前，其次为红色、黄色、提示，较早的在前。";
        RefreshesItself => "Refreshes itself every 30 seconds.", "每30秒自动刷新。";
        CallRequestCard => "Call request", "回电请求";
        SymptomsCard => "Symptoms", "症状";
        Escalated => "Re-opened: red news or a new call request arrived after this card was acknowledged.", "已重新打开：确认后又收到红色信号或新的回电请求。";
        Waiting => "Waiting for a call for", "已等待回电";
        CallPatient => "Call", "致电";
        OpenForm => "Open the latest form's answers", "查看最新问卷的回答";
        Signals => "Signals", "信号";
        TierHeading => "Tier", "级别";
        Subject => "Scale or item", "量表或条目";
        Why => "Why (the rule that set the tier)", "原因（决定级别的规则）";
        Latest => "Latest report's value", "最新报告的数值";
        Emailed => "E-mail to on-call", "发给值班人员的邮件";
        EmailSent => "sent", "已发送";
        EmailPending => "not sent yet, retrying", "尚未发送，正在重试";
        EmailFailed => "failed", "发送失败";
        PatientCards => "Alert cards", "警报卡片";
        ShowNewReport => "Show the card as it is now", "显示卡片的最新状态";
        HeldReports => "signals held, the last", "条信号被暂停，最近一次";
        NoCards => "No alert card for this patient.", "该患者没有警报卡片。";
        NoOpenAlerts => "No open cards. Nothing needs attention now.", "没有未处理的警报卡片。";
        ShowResolved => "Show resolved cards", "显示已解决的卡片";
        ShowOpen => "Show open cards", "显示未处理的卡片";
        ResolvedTitle => "Resolved cards", "已解决的卡片";
        TierRed => "Red", "红色";
        TierAmber => "Amber", "黄色";
        TierInfo => "Info", "提示";
        StateNew => "New", "新";
        StateAcknowledged => "Acknowledged", "已确认";
        StateResolved => "Resolved", "已解决";
        Raised => "Raised", "发出于";
        PastSla => "Past the service level: not acknowledged in time", "已超过服务时限：未及时确认";
        AcknowledgedAfter => "Acknowledged after", "确认用时";
        Minutes => "min", "分钟";
        MedianToAcknowledge => "Median time to acknowledge", "确认用时中位数";
        AlertsCounted => "acknowledged cards in this list", "张本列表中已确认的卡片";
        By => "by", "由";
        Acknowledge => "Acknowledge", "确认";
        Resolve => "Resolve", "解决";
        Action => "Action taken", "采取的措施";
        Note => "Note", "备注";
        ResolveAlert => "Resolve card", "解决卡片";
        Cancel => "Cancel", "取消";
        ChooseAction => "Choose the action taken.", "请选择采取的措施。";
        PatientPage => "Patient page", "患者页面";
        RuleAboveThreshold => "Past the threshold of clinical importance", "超过临床重要性阈值";
        RuleNewlyAboveThreshold => "Newly past the threshold of clinical importance", "新超过临床重要性阈值";
        RuleWorseThanBaseline => "Worse than baseline", "比基线差";
        RuleWorseThanPrevious => "Worse than the previous report", "比上次报告差";
        RuleVeryMuchOnItem => "Answered \"very much\"", "回答“非常”";
        RuleCallMe => "The patient asked to be called", "患者要求回电";
        RuleSevereBand => "Now in the severe range", "进入严重范围";
        RuleStillSevere => "Still in the severe range", "仍在严重范围";
        ActionCalledPatient => "Called the patient", "已致电患者";
        ActionAdvisedSelfCare => "Advised self-care", "建议自我护理";
        ActionArrangedClinicVisit => "Arranged a clinic visit", "已安排门诊";
        ActionReferredToEmergency => "Referred to emergency care", "已转急诊";
        ActionNoActionNeeded => "No action needed", "无需处理";
        SubjectCall => "Call request", "回电请求";
        SubjectItem => "Item", "条目";
        OverdueTitle => "Open questionnaires not yet completed", "未完成的开放问卷";
        OverdueLead => "Windows open now; the soonest to close first.", "当前开放的时间窗，最先关闭的在前。";
        NothingOverdue => "Every open questionnaire is completed.", "所有开放的问卷均已完成。";
        MissedTitle => "Missed questionnaires awaiting a reason", "待记录原因的缺失问卷";
        MissedLead => "Windows closed without a submission. Record why, for the analysis.", "时间窗已关闭但未提交。请记录原因，以便分析。";
        NothingMissed => "No missed questionnaire awaits a reason.", "没有待记录原因的缺失问卷。";
        DaysLeft => "Days left", "剩余天数";
        ClosesToday => "closes today", "今天关闭";
        Window => "Window", "时间窗";
        Reason => "Reason", "原因";
        RecordReason => "Record reason", "记录原因";
        MissedPatientTooIll => "Patient too ill", "患者病情过重";
        MissedDeclined => "Declined", "拒绝";
        MissedTechnicalProblem => "Technical problem", "技术问题";
        MissedForgot => "Forgot", "忘记";
        MissedOther => "Other", "其他";
        PatientsTitle => "Patients", "患者";
        EnrolPatient => "Enrol a patient", "登记患者";
        StudyId => "Study id", "研究编号";
        StudyIdHelp => "Leave empty for the next free id.", "留空则自动分配下一个编号。";
        Name => "Name", "姓名";
        Stratum => "Stratum", "分层";
        Language => "Language", "语言";
        FullName => "Full name", "全名";
        Phone => "Phone", "电话";
        HospitalNumber => "Hospital number", "住院号";
        EnrolledOn => "Enrolment date", "入组日期";
        Enrol => "Enrol", "登记";
        Activated => "App activated", "应用已激活";
        NotActivated => "App not activated yet", "应用尚未激活";
        OffStudyFlag => "Off study", "已退出研究";
        NoPatients => "No patient is enrolled yet.", "尚无登记的患者。";
        ActivationTitle => "Activation code", "激活码";
        ActivationLead => "Give this sheet to the patient. The code works once; it is shown only now.", "请将此页交给患者。激活码只能使用一次，且仅在此时显示。";
        ActivationExpires => "Valid until", "有效期至";
        ActivationScan => "Scan with the phone's camera to open the activation page with the code filled in:", "用手机相机扫描，打开已填好激活码的激活页面：";
        ActivationSteps => "Then choose a PIN of 4 to 8 digits. Sign in later with the study id and the PIN.", "然后设置4至8位数字PIN码。之后用研究编号和PIN码登录。";
        Print => "Print", "打印";
        NewCode => "Issue a new activation code (lost phone or forgotten PIN)", "签发新的激活码（手机丢失或忘记PIN码）";
        HelpButton => "Asked to be called with the app's \"I need help\" button (no form sent)", "通过应用的“我需要帮助”按钮请求来电（未提交问卷）";
        ChooseLanguage => "Choose the patient's language", "请选择患者的语言";
        ActivationForgot => "Forgot your PIN later? Ask your research nurse for a new activation code.", "以后忘记PIN码？请向研究护士索取新的激活码。";
        NewCodeLead => "The old code stops working, and the old phone is signed out.", "旧激活码将失效，旧手机将被登出。";
        SignInLocked => "Sign-in locked after repeated wrong PINs, until", "因多次输入错误PIN码，登录已锁定至";
        Unlock => "Unlock sign-in", "解除登录锁定";
        Unlocked => "Sign-in unlocked: the patient can try again now.", "已解除登录锁定：患者现在可以重新登录。";
        Identity => "Identity", "身份信息";
        Events => "Treatment events", "治疗事件";
        NoEvents => "No event recorded.", "尚未记录事件。";
        Recorded => "recorded", "记录于";
        Corrects => "corrects an earlier date", "更正了先前的日期";
        Superseded => "superseded", "已被更正";
        RecordEvent => "Record or correct an event", "记录或更正事件";
        Event => "Event", "事件";
        Date => "Date", "日期";
        Cycle => "Cycle", "周期";
        TumourResponse => "Response", "疗效";
        OffStudyReason => "Reason off study", "退出原因";
        CorrectionReason => "Reason (required when correcting a date)", "原因（更正日期时必填）";
        Save => "Save", "保存";
        EventEnrolment => "Enrolment", "入组";
        EventChemotherapyCycle => "Chemotherapy cycle starts", "化疗周期开始";
        EventInductionResponse => "Induction response evaluation", "诱导疗效评估";
        EventRadiotherapyStart => "Radiotherapy starts", "放疗开始";
        EventRadiotherapyEnd => "Radiotherapy ends", "放疗结束";
        EventEndOfTreatment => "End of treatment", "治疗结束";
        EventOffStudy => "Off study", "退出研究";
        ResponseCR => "Complete response (CR)", "完全缓解 (CR)";
        ResponsePR => "Partial response (PR)", "部分缓解 (PR)";
        ResponseSD => "Stable disease (SD)", "疾病稳定 (SD)";
        ResponsePD => "Progressive disease (PD)", "疾病进展 (PD)";
        OffProgression => "Progression", "疾病进展";
        OffDeath => "Death", "死亡";
        OffWithdrawal => "Withdrawal", "撤回同意";
        OffLost => "Lost to follow-up", "失访";
        Schedule => "Assessment schedule", "评估计划";
        Assessment => "Assessment", "评估";
        State => "State", "状态";
        Received => "Received", "接收于";
        AssessUpcoming => "Upcoming", "未开始";
        AssessOpen => "Open", "开放中";
        AssessCompleted => "Completed", "已完成";
        AssessMissed => "Missed", "缺失";
        AssessNotApplicable => "Not applicable", "不适用";
        Unscheduled => "unscheduled", "计划外";
        Timeline => "Scores over time", "评分随时间变化";
        TimelineLead => "Dashed: baseline. Dotted red: threshold of clinical importance (Giesinger 2020). Higher is better for functioning and global QoL, worse for symptoms.", "虚线：基线。红色点线：临床重要性阈值（Giesinger 2020）。功能和总体生活质量越高越好，症状越高越差。";
        NoScores => "No scores yet.", "尚无评分。";
        Submissions => "Submissions and item answers", "提交记录与条目回答";
        NoSubmissions => "Nothing submitted yet.", "尚无提交。";
        ShowAnswers => "Show item answers", "显示条目回答";
        CompletedAt => "Completed", "完成于";
        LateDelivery => "delivered late", "延迟送达";
        AskedToBeCalled => "asked to be called", "要求回电";
        NotApplicable => "does not apply", "不适用";
        Item => "Item", "条目";
        Answer => "Answer", "回答";
        EnterForm => "Enter a form", "代录问卷";
        ProtocolVersion => "Version", "版本";
        DoubleEntryLead => "This study enters paper forms twice: a second staff member enters the same paper form without seeing the first entry, and the form counts only when both agree.", "本研究的纸质问卷需录入两次：第二位工作人员在看不到第一次录入内容的情况下录入同一份纸质问卷，两次一致后问卷才计入。";
        FirstEntryNext => "No entry yet: this will be the first.", "尚无录入：这将是第一次录入。";
        AwaitingSecondEntry => "First entry stored, waiting for a second entry by another staff member. Entered by:", "第一次录入已保存，等待另一位工作人员进行第二次录入。录入人：";
        EnterAgainBlind => "Enter the form again from the paper, without looking at the first entry.", "请根据纸质问卷再次录入，不要查看第一次录入的内容。";
        EntriesDifferOn => "The two entries differ on:", "两次录入不一致之处：";
        ResolveFromPaper => "Check the paper form and enter the right value where they differ; what they agree on is filled in and must not change.", "请核对纸质问卷，在不一致处录入正确的值；一致的内容已填好，不得更改。";
        FormCounted => "The form counts: both entries agreed or were resolved.", "问卷已计入：两次录入一致或已核对解决。";
        PaperEntriesOne => "1 of 2 entries", "已录入 1/2";
        PaperEntriesDiffer => "entries differ", "录入不一致";
        ProtocolColumn => "Protocol", "方案版本";
        ProtocolVersions => "Protocol versions", "研究方案版本";
        EffectiveOn => "In effect from", "生效日期";
        AmendedBy => "Amended by", "修订人";
        FirstProtocol => "the study's first protocol", "研究的首个方案";
        AmendProtocol => "Amend the protocol", "修订研究方案";
        AmendProtocolLead => "Choose the amended protocol file. It is checked first: every problem and every value it changes are listed, and nothing changes until you apply it with a reason. It takes effect today as the next version: assessments whose window opens after today follow it; those already open (today included), sent or missed keep the version they were scheduled under, and an added assessment whose window has already closed is not scheduled. The study's time zone, patient id prefix and strata cannot change.", "请选择修订后的研究方案文件。系统会先进行检查：列出每个问题和每项更改的值，在您填写原因并应用之前不会有任何更改。修订自今天起作为下一个版本生效：窗口在今天之后开放的评估遵循新版本；已开放（含今天开放）、已提交或已错过的评估保留其原有版本；新增评估若窗口已关闭则不排期。研究的时区、患者编号前缀和分层不能更改。";
        ProtocolFile => "Protocol file (JSON)", "研究方案文件（JSON）";
        CheckAmendment => "Check the amendment", "检查修订";
        AmendmentInvalid => "This amendment cannot be applied. Nothing has changed. Problems:", "无法应用此修订，未做任何更改。问题：";
        AmendmentValid => "No problems: this amendment can be applied.", "没有问题：可以应用此修订。";
        AmendmentChanges => "What it changes", "更改内容";
        Setting => "Setting", "设置项";
        AmendmentApplied => "Applied: the study now runs protocol version", "已应用：研究现在使用研究方案版本";
        ApplyAmendment => "Apply as version", "应用为版本";
        WordingSource => "Source", "来源";
        SourceUploaded => "uploaded from this console", "由本控制台上传";
        SourceFile => "the server's --wording-pack file", "服务器的 --wording-pack 文件";
        SourceShipped => "shipped with qol", "qol 自带";
        UploadedBy => "Uploaded by", "上传人";
        UploadReason => "Reason", "原因";
        UploadWording => "Upload a wording pack", "上传问卷文本包";
        UploadWordingLead => "A new pack is checked first: every problem is listed by its key, and nothing changes until you apply a pack without problems. Applying it is recorded in the audit trail with your reason; the patients' phones get the new texts at their next questionnaire.", "新文本包会先经过检查：每个问题都按其键名列出，在应用没有问题的文本包之前不会有任何更改。应用操作会连同您的原因记入审计记录；患者手机会在下一次填写问卷时获取新文本。";
        PackFile => "Pack file (JSON)", "文本包文件（JSON）";
        ChangeReason => "Reason for the change", "更改原因";
        CheckPack => "Check the pack", "检查文本包";
        ApplyPack => "Apply this pack", "应用此文本包";
        ChooseFileFirst => "Choose a pack file first.", "请先选择文本包文件。";
        FileUnreadable => "The file could not be read.", "无法读取该文件。";
        PackValid => "No problems: this pack can be applied.", "没有问题：可以应用此文本包。";
        PackInvalid => "This pack cannot be applied. Nothing has changed. Problems:", "无法应用此文本包，未做任何更改。问题：";
        TextsChanged => "Texts it changes, adds or takes out, compared with the pack in use:", "与当前文本包相比，更改、新增或删除的文本：";
        NoTextChanged => "No text differs from the pack in use.", "与当前文本包没有任何文本差异。";
        ReasonRequired => "Give the reason for the change.", "请填写更改原因。";
        PackApplied => "Applied: the study now uses this pack.", "已应用：研究现在使用此文本包。";
        AuditTrail => "Audit trail", "审计记录";
        AuditLead => "Every change anyone made, and every sign-in, newest first. Filter by patient, staff member, action or days; each entry shows who, when, what and, where it applies, the values before and after.", "所有人做出的每项更改及每次登录，按时间倒序排列。可按患者、工作人员、操作或日期筛选；每条记录显示执行人、时间、内容，以及适用时更改前后的值。";
        AuditFilters => "Filter the audit trail", "筛选审计记录";
        ChainHeading => "The chain", "记录链";
        VerifyChain => "Verify the chain", "校验记录链";
        VerifyChainLead => "Checks every entry's hash against the one before it: a changed, removed or reordered entry is found.", "逐条核对每条记录与前一条记录的哈希：可发现被修改、删除或调换顺序的记录。";
        ChainIntact => "Intact", "完整";
        ChainBroken => "Broken", "已损坏";
        EntriesChecked => "entries checked", "条记录已核对";
        FirstBadEntry => "first entry that does not match:", "第一条不匹配的记录：";
        ChainHead => "Head (record it to compare later)", "链头（请记录以便日后核对）";
        StudyIdFilter => "Patient (study id)", "患者（研究编号）";
        ActionFilter => "Action", "操作";
        FromDay => "From", "起始日期";
        ToDay => "To", "截止日期";
        ShowEntries => "Show", "显示";
        DownloadCsv => "Download these entries (CSV)", "下载这些记录（CSV）";
        When => "When", "时间";
        Who => "Who", "执行人";
        Entity => "On", "对象";
        BeforeAfter => "Before / after", "更改前/后";
        ShowChanges => "Show", "显示";
        Before => "Before", "更改前";
        After => "After", "更改后";
        NoEntries => "No entries match.", "没有匹配的记录。";
        OlderEntries => "Older entries", "更早的记录";
        EnterFormLead => "Enter the answers of a paper form, a telephone or clinic interview, or a proxy, for this assessment. The form is checked, scored and alerted exactly as one sent from the phone, and it is recorded how it was filled in.", "为此评估录入纸质问卷、电话或门诊访谈、或代答者的回答。问卷的检查、评分和警报与手机提交的完全相同，并记录填写方式。";
        NoSuchAssessment => "This patient has no such scheduled assessment.", "该患者没有此项计划评估。";
        NoSuchSubmission => "This patient has no such submission.", "该患者没有此提交记录。";
        NotCurrentVersion => "This version has been corrected since: correct the current version.", "此版本已被更正：请更正当前版本。";
        BackToPatient => "Back to the patient", "返回患者页面";
        CompletedOn => "Completed on", "完成日期";
        CompletedOnRule => "Enter the day she completed the form.", "请输入患者完成问卷的日期。";
        Mode => "How it was filled in", "填写方式";
        ModeSelf => "By the patient, in the app", "患者本人（应用）";
        ModePaper => "Paper form", "纸质问卷";
        ModeTelephone => "Telephone interview", "电话访谈";
        ModeClinic => "Clinic interview", "门诊访谈";
        ModeProxy => "Proxy (answered by someone else)", "代答（他人代为回答）";
        FormReference => "Paper form reference", "纸质问卷编号";
        FormReferenceHint => "Required for a paper form: the number or barcode on it, so the paper can be found again.", "纸质问卷必填：问卷上的编号或条形码，以便日后查找原件。";
        FormLanguage => "Language of the questions", "问题所用语言";
        NotAnswered => "Not answered", "未回答";
        StoreForm => "Store the form", "保存问卷";
        CorrectForm => "Correct a form", "更正问卷";
        CorrectFormLead => "Change the answers that are wrong and say why. The correction is a new version: the earlier one is kept, the form is scored again and its alerts checked again. Your password is your signature.", "修改错误的回答并说明原因。更正会生成新版本：保留旧版本，重新评分并重新检查警报。您的密码即为您的签名。";
        Version => "Version", "版本";
        Signature => "Electronic signature", "电子签名";
        Meaning => "Meaning of the signature", "签名含义";
        MeaningTranscription => "I corrected a transcription error", "我更正了转录错误";
        MeaningPatientRequest => "I corrected an answer at the patient's request", "我应患者要求更正了回答";
        SignWithPassword => "Your password", "您的密码";
        SignatureHint => "Entering your password signs the correction with your name and the time.", "输入密码即以您的姓名和当前时间签署此更正。";
        SignCorrection => "Sign and store the correction", "签署并保存更正";
        Correct => "Correct", "更正";
        EnteredBy => "entered by", "录入人";
        FormRef => "form", "问卷编号";
        CorrectedBy => "corrected by", "更正人";
        VersionOf => "version", "版本";
        SupersededBy => "superseded by a correction", "已被更正取代";
        FormStored => "The form was stored, scored and checked for alerts.", "问卷已保存、评分并完成警报检查。";
        CorrectionStored => "The correction was signed and stored as a new version.", "更正已签署并保存为新版本。";
        Snoozes => "Snoozed alerts", "暂停的警报";
        SnoozesLead => "A snooze holds this patient's amber and info signals of one scale up to the date (at most six months); red signals and call requests always come through. What it held is counted here.", "暂停期间（最长六个月），该患者此量表的黄色和提示信号不产生警报；红色信号和回电请求始终提醒。被暂停的信号在此计数。";
        NoSnoozes => "Nothing snoozed.", "没有暂停的警报。";
        Snooze => "Snooze", "暂停";
        SnoozeSubject => "Scale or item (e.g. FA, ITEM43)", "量表或条目（如 FA、ITEM43）";
        Until => "Until", "直至";
        EndSnooze => "End now", "立即结束";
        Ended => "ended", "已结束";
        ResearchTitle => "Pre/post-treatment quality of life", "治疗前后的生活质量";
        ResearchLead => "Pseudonymised: study ids and study days only. Change = later score minus baseline, over patients with both (paired); 95 % CI from the t distribution.", "已假名化：仅含研究编号和研究日。变化 = 之后的评分减基线评分，仅计入两次均有评分的患者（配对）；95% 置信区间基于 t 分布。";
        ResponderPoints => "Responder threshold (points)", "应答阈值（分）";
        AllPatients => "All patients", "全部患者";
        Group => "Patients", "患者组";
        PrimaryTitle => "Primary comparison: baseline → end of treatment", "主要比较：基线 → 治疗结束";
        Scale => "Scale", "量表";
        NPaired => "n (paired)", "n（配对）";
        MeanBaseline => "Baseline mean", "基线均值";
        MeanLater => "Mean at the assessment", "评估时均值";
        MeanChange => "Mean change [95 % CI]", "平均变化 [95% CI]";
        Srm => "SRM", "SRM";
        ImprovedStableWorse => "Improved / stable / deteriorated", "改善 / 稳定 / 恶化";
        ChangesTitle => "Mean change from baseline at each assessment [95 % CI]", "各评估相对基线的平均变化 [95% CI]";
        IncludeWeekly => "Include the weekly assessments", "包括每周评估";
        MeansTitle => "Mean score over time, 95 % CI, by stratum", "各分层随时间变化的平均评分（95% CI）";
        CompletionTitle => "Completion by assessment", "各评估的完成情况";
        CompletionLead => "Received forms over two denominators (SISAQOL). Fixed: patients alive and on study who reached the assessment's day, with or without a window yet. Available: windows opened and closed. Off study or died before the window opened: left out, counted apart.", "两种分母下的已收问卷（SISAQOL）。固定分母：到达该评估日且仍存活、仍在研究中的患者（无论时间窗是否已计算）。可用分母：已开放并关闭的时间窗。时间窗开放前已退出研究或死亡者不计入，单独列出。";
        DenominatorFixed => "Fixed denominator", "固定分母";
        DenominatorAvailable => "Available", "可用分母";
        RateFixed => "Rate (fixed)", "完成率（固定）";
        RateAvailable => "Rate (available)", "完成率（可用）";
        NotScheduled => "No window yet", "尚无时间窗";
        OffStudyBefore => "Off study before", "之前已退出";
        DiedBefore => "Died before", "之前已死亡";
        ReceivedN => "Received", "已收到";
        InWindow => "In window", "时间窗内";
        Pending => "Open now", "进行中";
        MissedN => "Missed", "缺失";
        MissingReasons => "Missing reasons", "缺失原因";
        ExportsTitle => "Exports", "导出";
        ExportsLead => "Analysis-ready files; every download is recorded in the audit trail.", "可直接分析的文件；每次下载都会记入审计日志。";
        EventRecordedCheck => "Recorded. Please check:", "已记录。请核对：";
        OutOfWindowTitle => "Forms outside their window", "窗口期外的问卷";
        OutOfWindowLead => "Forms completed outside their assessment's window as the current treatment events give it, or whose assessment left the schedule. They are left out of the numbers above unless included here.", "按当前治疗事件计算，在评估窗口期外完成的问卷，或其评估已不在计划中的问卷。除非在此选择纳入，上述数据不包括它们。";
        IncludeOutOfWindow => "Include them in the numbers above", "在上述数据中纳入";
        NoOutOfWindow => "Every received form was completed inside its window.", "所有收到的问卷都在窗口期内完成。";
        Placement => "Placement", "归属";
        NoData => "No data yet.", "尚无数据。";
        Thresholds => "Thresholds of meaningful change", "有意义变化的阈值";
        ThresholdsStudy => "The study's default", "研究默认";
        ThresholdsOsoba => "10 points (Osoba 1998)", "10 分（Osoba 1998）";
        ThresholdsGiesinger => "Levels of clinical importance (Giesinger 2020)", "临床重要性水平（Giesinger 2020）";
        ThresholdsProtocol => "The protocol's table", "方案中的阈值表";
        ThresholdsPoints => "Points, as entered", "按输入的分数";
        ThresholdsUsed => "Thresholds used:", "所用阈值：";
        Extracted => "Data extracted", "数据提取时间";
        ProtocolWord => "protocol", "方案";
        ResultsReport => "QoL results report (printable)", "生活质量结果报告（可打印）";
        DownloadSvg => "Download SVG", "下载 SVG";
        DownloadPng => "Download PNG", "下载 PNG";
        TtdTitle => "Time to deterioration (Kaplan–Meier)", "至恶化时间（Kaplan–Meier）";
        TtdLead => "From cycle 1 day 1; reference: baseline. Patients without a baseline score are left out and counted. Dashed: 95 % interval (log-log); ticks: censored.", "自第 1 周期第 1 天起计；参照：基线。无基线评分的患者不纳入并单独计数。虚线：95% 置信区间（log-log）；短竖线：删失。";
        Definition => "Definition", "定义";
        DefinitionFirst => "First deterioration", "首次恶化";
        DefinitionConfirmed => "Confirmed at the next form", "下次问卷确认";
        DefinitionDefinitive => "Definitive (no return)", "确定性恶化（未恢复）";
        Death => "A death before deterioration", "恶化前死亡";
        DeathEvent => "counts as an event", "计为事件";
        DeathCensor => "is censored", "作删失处理";
        GroupCol => "Group", "组别";
        Included => "Included", "纳入";
        LeftOut => "Left out", "未纳入";
        TtdEvents => "Events", "事件";
        OfWhichDeaths => "of which deaths", "其中死亡";
        MedianWeeks => "Median, weeks [95 % CI]", "中位数（周）[95% CI]";
        NotReached => "not reached", "未达到";
        AtRiskTitle => "Numbers at risk", "风险人数";
        AwaitingReason => "Awaiting a reason", "等待说明原因";
    }
}

pub fn tier(tier: Tier) -> S {
    match tier {
        Tier::Red => S::TierRed,
        Tier::Amber => S::TierAmber,
        Tier::Info => S::TierInfo,
    }
}

pub fn rule(rule: Rule) -> S {
    match rule {
        Rule::AboveThreshold => S::RuleAboveThreshold,
        Rule::NewlyAboveThreshold => S::RuleNewlyAboveThreshold,
        Rule::WorseThanBaseline => S::RuleWorseThanBaseline,
        Rule::WorseThanPrevious => S::RuleWorseThanPrevious,
        Rule::VeryMuchOnItem => S::RuleVeryMuchOnItem,
        Rule::CallMe => S::RuleCallMe,
        Rule::SevereBand => S::RuleSevereBand,
        Rule::StillSevere => S::RuleStillSevere,
    }
}

pub fn alert_state(state: AlertState) -> S {
    match state {
        AlertState::New => S::StateNew,
        AlertState::Acknowledged => S::StateAcknowledged,
        AlertState::Resolved => S::StateResolved,
    }
}

pub const ACTIONS: [ResolutionAction; 5] = [
    ResolutionAction::CalledPatient,
    ResolutionAction::AdvisedSelfCare,
    ResolutionAction::ArrangedClinicVisit,
    ResolutionAction::ReferredToEmergency,
    ResolutionAction::NoActionNeeded,
];

pub fn action(action: ResolutionAction) -> S {
    match action {
        ResolutionAction::CalledPatient => S::ActionCalledPatient,
        ResolutionAction::AdvisedSelfCare => S::ActionAdvisedSelfCare,
        ResolutionAction::ArrangedClinicVisit => S::ActionArrangedClinicVisit,
        ResolutionAction::ReferredToEmergency => S::ActionReferredToEmergency,
        ResolutionAction::NoActionNeeded => S::ActionNoActionNeeded,
    }
}

pub fn missed_reason(reason: MissedReason) -> S {
    match reason {
        MissedReason::PatientTooIll => S::MissedPatientTooIll,
        MissedReason::Declined => S::MissedDeclined,
        MissedReason::TechnicalProblem => S::MissedTechnicalProblem,
        MissedReason::Forgot => S::MissedForgot,
        MissedReason::Other => S::MissedOther,
    }
}

pub fn assessment_state(state: AssessmentState) -> S {
    match state {
        AssessmentState::Upcoming => S::AssessUpcoming,
        AssessmentState::Open => S::AssessOpen,
        AssessmentState::Completed => S::AssessCompleted,
        AssessmentState::Missed => S::AssessMissed,
        AssessmentState::NotApplicable => S::AssessNotApplicable,
    }
}

pub fn tumour_response(response: TumourResponse) -> S {
    match response {
        TumourResponse::CompleteResponse => S::ResponseCR,
        TumourResponse::PartialResponse => S::ResponsePR,
        TumourResponse::StableDisease => S::ResponseSD,
        TumourResponse::ProgressiveDisease => S::ResponsePD,
    }
}

pub fn off_study_reason(reason: OffStudyReason) -> S {
    match reason {
        OffStudyReason::Progression => S::OffProgression,
        OffStudyReason::Death => S::OffDeath,
        OffStudyReason::Withdrawal => S::OffWithdrawal,
        OffStudyReason::LostToFollowUp => S::OffLost,
    }
}

/// A serde-named value (`called_patient`, `CR`, …) as its wire name, for `<option value>`.
pub fn wire<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The value whose wire name is `name`.
pub fn from_wire<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

pub fn reminder_channel(channel: qol_shared::api::ReminderChannel) -> S {
    use qol_shared::api::ReminderChannel;
    match channel {
        ReminderChannel::Auto => S::ChannelAuto,
        ReminderChannel::Sms => S::ChannelSms,
        ReminderChannel::Email => S::ChannelEmail,
        ReminderChannel::Push => S::ChannelPush,
        ReminderChannel::Off => S::ChannelOff,
    }
}

pub fn reminder_kind(kind: qol_shared::reminders::ReminderKind) -> S {
    use qol_shared::reminders::ReminderKind;
    match kind {
        ReminderKind::WindowOpen => S::KindWindowOpen,
        ReminderKind::NotDone => S::KindNotDone,
        ReminderKind::BeforeClose => S::KindBeforeClose,
    }
}

pub fn message_state(state: qol_shared::api::MessageState) -> S {
    use qol_shared::api::MessageState;
    match state {
        MessageState::Pending => S::MessagePending,
        MessageState::Sent => S::MessageSent,
        MessageState::Failed => S::MessageFailed,
        MessageState::Cancelled => S::MessageCancelled,
    }
}

pub fn mode(mode: qol_shared::api::CompletionMode) -> S {
    use qol_shared::api::CompletionMode;
    match mode {
        CompletionMode::SelfReport => S::ModeSelf,
        CompletionMode::Paper => S::ModePaper,
        CompletionMode::TelephoneInterview => S::ModeTelephone,
        CompletionMode::ClinicInterview => S::ModeClinic,
        CompletionMode::Proxy => S::ModeProxy,
    }
}

pub fn meaning(meaning: qol_shared::api::CorrectionMeaning) -> S {
    use qol_shared::api::CorrectionMeaning;
    match meaning {
        CorrectionMeaning::CorrectedTranscriptionError => S::MeaningTranscription,
        CorrectionMeaning::CorrectedAtPatientsRequest => S::MeaningPatientRequest,
    }
}
