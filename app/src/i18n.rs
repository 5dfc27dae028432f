//! The app's own text in each language it ships (English and Simplified Chinese), for the patient's
//! app and the staff console alike: each part lists its strings with `strings!` (the patient's
//! app and the shared frame here as [`Text`], the console's in `staff/text.rs`), and [`t`] and
//! [`text`] say any of them in the current language. Questionnaire wording is not here: it comes
//! from the server's wording pack.

use leptos::prelude::*;
use qol_shared::Language;

/// Strings that exist in every language the app ships; made by `strings!`.
pub trait Strings: Copy + Send + Sync + 'static {
    /// The string in English and in Simplified Chinese.
    fn en_zh(self) -> (&'static str, &'static str);
}

/// An enum of strings, each key with its English and its Chinese text side by side
/// (`Key => "English", "中文";`), so no key can lack a language. Both parts call it by its path,
/// `crate::i18n::strings!`.
macro_rules! strings {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($key:ident => $en:literal, $zh:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name { $($key,)* }

        impl $crate::i18n::Strings for $name {
            fn en_zh(self) -> (&'static str, &'static str) {
                match self { $($name::$key => ($en, $zh),)* }
            }
        }
    };
}
pub(crate) use strings;

crate::i18n::strings! {
    /// A string of the patient's app, or of the frame and sign-in forms both parts share.
    pub enum Text {
        AppName => "Quality of life", "生活质量";
        Loading => "Loading…", "正在加载…";
        Study => "Study", "研究";
        Questionnaires => "Questionnaires", "问卷";
        Items => "items", "个条目";
        ServerProblem => "Something went wrong", "出现问题";
        Back => "Back", "返回";
        SwitchLanguage => "Language", "语言";
        NotFound => "This page does not exist.", "此页面不存在。";
        GoHome => "Go to the start page", "返回首页";
        Welcome => "Welcome", "欢迎";
        WelcomeLead => "Answer your quality-of-life questionnaires here. It takes a few minutes.", "请在这里填写您的生活质量问卷，只需几分钟。";
        HaveCode => "I have an activation code", "我有激活码";
        HavePin => "Sign in with my study ID and PIN", "用研究编号和PIN码登录";
        StaffSignIn => "Staff sign-in", "工作人员登录";
        ActivateTitle => "Set up this phone", "设置这部手机";
        ActivationCode => "Activation code from your research nurse", "研究护士给您的激活码";
        NewPin => "Choose a PIN (4 to 8 digits)", "设置PIN码（4到8位数字）";
        NewPinAgain => "Enter the PIN again", "再次输入PIN码";
        PinHelp => "You will use this PIN to sign in next time.", "下次登录时将使用此PIN码。";
        PinsDiffer => "The two PINs are not the same. Please enter them again.", "两次输入的PIN码不一致，请重新输入。";
        Activate => "Activate", "激活";
        SignInTitle => "Sign in", "登录";
        StudyId => "Study ID (for example IVB-017)", "研究编号（例如 IVB-017）";
        Pin => "PIN", "PIN码";
        SignIn => "Sign in", "登录";
        Username => "Username", "用户名";
        Password => "Password", "密码";
        SignOut => "Sign out", "退出登录";
        ReminderSettings => "Reminders", "提醒设置";
        ReminderLead => "We let you know when a questionnaire is ready, and remind you if it is not done. The messages never name your illness.", "问卷准备好时我们会通知您，未完成时会提醒您。消息中不会提及您的疾病。";
        RemindMeBy => "Remind me by", "提醒方式";
        ByAuto => "Whatever works (text message first)", "自动选择（优先短信）";
        BySms => "Text message (SMS)", "短信";
        ByEmail => "E-mail", "电子邮件";
        ByPush => "Notification on this phone", "本手机通知";
        ByOff => "Do not remind me", "不要提醒我";
        TextsIn => "Messages in", "消息语言";
        Save => "Save", "保存";
        SavedSettings => "Your settings are saved.", "设置已保存。";
        WeRemindBy => "We remind you by", "我们将通过以下方式提醒您";
        NoWayToRemind => "We cannot reach you by the way you chose. Please ask your research nurse.", "我们无法通过您选择的方式联系您，请咨询您的研究护士。";
        NotReminded => "You will not be reminded.", "您将不会收到提醒。";
        SiteNotSetUp => "Reminders are not set up at this hospital yet.", "本医院尚未开通提醒。";
        PushTitle => "Notifications on this phone", "本手机通知";
        PushConsent => "If you agree, this phone shows a notification when a questionnaire is ready. You can turn it off here at any time.", "如果您同意，问卷准备好时本手机会显示通知。您可以随时在这里关闭。";
        PushOn => "Turn on notifications", "开启通知";
        PushOff => "Turn off notifications on this phone", "关闭本手机通知";
        PushIsOn => "Notifications are on for this phone.", "本手机已开启通知。";
        PushUnavailable => "This phone cannot receive notifications from the app (on iPhone, add the app to the home screen first).", "本手机无法接收应用通知（iPhone 请先将应用添加到主屏幕）。";
        PushDenied => "Notifications were not allowed. You can allow them in the browser's settings.", "通知未被允许。您可以在浏览器设置中允许。";
        DueNow => "Due now", "现在需要填写";
        NothingDue => "Nothing is due right now. Thank you!", "目前没有需要填写的问卷。谢谢！";
        Until => "Please answer by", "请在此日期前填写：";
        ComingNext => "Coming next", "下一份问卷";
        Opens => "Opens on", "开放日期：";
        Sent => "Sent", "已发送";
        SentTick => "Sent ✓", "已发送 ✓";
        SavedOnPhone => "Saved on this phone — will be sent automatically", "已保存在手机上——将自动发送";
        Sending => "Sending…", "正在发送…";
        NotSent => "Could not be sent", "无法发送";
        FeelWorse => "I feel worse — report symptoms now", "我感觉更差了——现在报告症状";
        FeelWorseLead => "Tell your care team how you feel today, at any time.", "您可以随时告诉医护团队您今天的感受。";
        Start => "Start", "开始";
        Continue => "Continue", "继续";
        QuestionOf => "Question", "问题";
        Of => "of", "/";
        Next => "Skip this question", "跳过此题";
        NotApplicableSection => "This part does not apply to me", "此部分不适用于我";
        CallMeTitle => "Would you like your research nurse to call you?", "您希望研究护士给您打电话吗？";
        CallMeYes => "Yes, please call me", "是的，请给我打电话";
        CallMeNo => "No, thank you", "不用，谢谢";
        ReviewTitle => "Check and send", "检查并发送";
        AllAnswered => "You answered every question.", "您已回答所有问题。";
        Unanswered => "Not answered", "未回答";
        UnansweredHelp => "You may leave questions blank, or tap one below to answer it.", "您可以不回答某些问题，或点击下面的问题进行回答。";
        SendNow => "Send", "发送";
        SentAt => "received", "接收于";
        ReceivedBy => "Your answers were received. Thank you.", "您的回答已收到。谢谢。";
        StaffHomeTitle => "Staff", "工作人员";
        StaffHomeLead => "Open the staff console", "打开工作人员控制台";
        Retry => "Try again", "重试";
        SelectedAnswer => "selected", "已选择";
        RefusedConflict => "The time for this questionnaire has passed, or it was already sent. Your research nurse can help.", "此问卷的填写时间已过，或已经发送过。研究护士可以帮助您。";
        RefusedInvalid => "Some answers could not be accepted. Your research nurse can help.", "部分回答无法被接受。研究护士可以帮助您。";
        RefusedSignIn => "Please sign in again; your answers are kept on this phone.", "请重新登录；您的回答已保存在手机上。";
        RefusedStudyEnded => "The study has ended for you, so this form is no longer needed. Thank you. Your research nurse can answer any questions.", "您的研究已经结束，因此不再需要这份问卷。谢谢您。如有疑问，请联系您的研究护士。";
        SkipToContent => "Skip to the main content", "跳到主要内容";
        Offline => "This phone cannot reach the study's server just now. Please check the connection and try again.", "手机暂时无法连接研究服务器。请检查网络后重试。";
        WrongCredentials => "The details you entered are not right. Please check them and try again.", "您输入的信息不正确，请检查后重试。";
        LockedOut => "Too many wrong tries. Please wait a few minutes, then try again, or ask your research nurse.", "错误次数过多。请等几分钟后重试，或联系您的研究护士。";
        TryAgainShortly => "The server is busy. Please try again in a moment.", "服务器正忙，请稍后重试。";
        PinFormat => "A PIN is 4 to 8 digits. Please choose another.", "PIN码需要4到8位数字，请重新设置。";
        ActivationCodeInvalid => "This activation code does not work: it may be mistyped, already used, or too old. Your research nurse can give you a new one.", "此激活码无效：可能输入有误、已被使用或已过期。研究护士可以给您一个新的激活码。";
        WrongPinHere => "This PIN is not right. Please try again.", "PIN码不正确，请重试。";
        NeedsSecureAddress => "This address is not secure (it does not start with https), so your answers cannot be kept safely on this phone. Please ask your study team for the right address.", "此网址不安全（不是以 https 开头），您的回答无法安全地保存在手机上。请向研究团队询问正确的网址。";
        LockedTitle => "Enter your PIN to continue", "请输入PIN码继续";
        LockedLead => "The app locks itself after a few minutes without use, so your answers stay private.", "应用在几分钟不使用后会自动锁定，以保护您的回答。";
        Unlock => "Continue", "继续";
        ForgotPin => "Forgot your PIN? Ask your research nurse for a new activation code, then choose a new PIN.", "忘记PIN码了？请向研究护士索取新的激活码，然后设置新的PIN码。";
        NotMe => "Not you? Sign out", "不是您本人？退出登录";
        SignOutTitle => "Sign out", "退出登录";
        UnsentLead => "Forms not sent yet:", "尚未发送的问卷：";
        CannotSendNow => "They could not be sent now (no connection). Choose again below.", "现在无法发送（没有网络）。请在下面重新选择。";
        SendThenSignOut => "Send them, then sign out", "先发送，再退出登录";
        KeepLocked => "Keep them on this phone, locked with my PIN, and sign out", "保存在手机上（用我的PIN码锁定），并退出登录";
        DeleteUnsent => "Delete them and sign out", "删除并退出登录";
        DeleteWarning => "Your answers will be deleted from this phone and cannot be recovered.", "您的回答将从手机上删除，且无法恢复。";
        DeleteAndSignOut => "Yes, delete my answers and sign out", "是的，删除我的回答并退出登录";
        Cancel => "Cancel", "取消";
        HelpTitle => "Help", "帮助";
        INeedHelp => "I need help", "我需要帮助";
        HelpLead => "Tap the button and your research nurse is told at once to call you. No questions first.", "点击按钮，研究护士会立即收到通知给您打电话。无需先回答问题。";
        AskCall => "Ask my nurse to call me", "请护士给我打电话";
        HelpReceived => "Your nurse has been told, and will call you.", "已通知您的护士，她会给您打电话。";
        CallBackBy => "She will call you by", "她会在此时间前给您打电话：";
        CallBackLead => "Keep your phone with you. If you feel very unwell before then, do not wait: follow the advice below.", "请把手机带在身边。如果在此之前您感觉非常不舒服，请不要等待，请按照下面的建议去做。";
        HelpNotYet => "Not sent yet: your nurse does not know yet.", "尚未发送：您的护士还不知道。";
        HelpNotYetLead => "This phone has no connection. The request is kept and sent as soon as it can be. If you need help now, ring the study team or follow the advice below.", "手机没有网络。请求已保存，一有网络就会发送。如果您现在需要帮助，请给研究团队打电话或按照下面的建议去做。";
        CallStudyTeam => "Call the study team", "给研究团队打电话";
        UrgentTitle => "If it is urgent", "紧急情况";
        ShortCheckTitle => "Tell us how you feel", "告诉我们您的感受";
        ShortCheckLead => "If you like, answer 12 short questions about your symptoms (about 2 minutes). Your nurse sees them before calling.", "如果您愿意，可以回答12个关于症状的简短问题（约2分钟）。护士打电话前会看到您的回答。";
        ShortCheck => "Answer the short symptom questions", "回答简短的症状问题";
        HelpAlreadyAsked => "You already asked: your nurse will call.", "您已经提出请求：护士会给您打电话。";
        PastForms => "Your past forms", "您以前填写的问卷";
        SentCount => "sent", "份已发送";
        LastOn => "the last", "最近一次";
        SeeHistory => "See all your past forms", "查看您以前填写的所有问卷";
        HistoryTitle => "Your past forms", "您以前填写的问卷";
        NoFormsYet => "You have not sent a form yet.", "您还没有发送过问卷。";
        YourScores => "How you have been", "您的情况变化";
        ScoresLead => "From your answers, on a scale of 0 to 100. Your care team looks at them with you.", "根据您的回答计算，范围0到100。医护团队会和您一起查看。";
        HigherBetter => "higher is better", "越高越好";
        LowerBetter => "lower is better", "越低越好";
        Better => "Better than in your first form.", "比您第一次填写时好。";
        Worse => "Worse than in your first form.", "比您第一次填写时差。";
        AboutSame => "About the same as in your first form.", "与您第一次填写时差不多。";
        ScoreQl => "Overall quality of life", "总体生活质量";
        ScorePf => "Physical activities", "身体活动";
        ScoreFa => "Tiredness", "疲乏";
        ScorePa => "Pain", "疼痛";
        ScoreEf => "Mood", "情绪";
        ScoreNv => "Nausea and vomiting", "恶心和呕吐";
        Unscheduled => "Extra report", "额外报告";
        QuestionsAbout => "questions, about", "个问题，大约需要";
        Minutes => "minutes.", "分钟。";
        StopResume => "You can stop at any time: your answers are kept on this phone, and you continue where you stopped.", "您可以随时停下：您的回答会保存在手机上，下次从停下的地方继续。";
        ReviewLead => "Tap an answer to change it; you come back here after.", "点击任意回答即可修改，修改后会回到这里。";
        DoesNotApply => "Does not apply to me", "不适用于我";
        NotAnsweredShort => "Not answered", "未回答";
        CorrectedByTeam => "corrected by the study team", "研究团队已更正";
        CallMeShort => "A call from your nurse", "护士来电";
        BackToReview => "Back to the review", "返回检查页面";
        KeptLocked => "Forms kept on this phone are locked. They are sent when the person they belong to signs in again.", "保存在这部手机上的问卷已锁定。问卷的主人再次登录后会自动发送。";
    }
}

/// The built-in labels of an unscheduled report, by language tag.
pub fn unscheduled_labels() -> std::collections::BTreeMap<String, String> {
    let (en, zh) = Text::Unscheduled.en_zh();
    [
        (Language::English.text_tag().to_owned(), en.to_owned()),
        (Language::Chinese.text_tag().to_owned(), zh.to_owned()),
    ]
    .into_iter()
    .collect()
}

/// A label in `language` from the protocol's labels (by text tag, `en` or `zh-Hans`), or
/// `fallback`.
pub fn label_in(
    labels: &std::collections::BTreeMap<String, String>,
    fallback: &str,
    language: Language,
) -> String {
    labels.get(language.text_tag()).cloned().unwrap_or_else(|| fallback.to_owned())
}

/// A calendar date (a window's edge, the day a form was completed) in `language`'s way:
/// "1 Dec 2026", "2026年12月1日". The date has no time zone, so it is formatted as UTC.
pub fn local_date(date: chrono::NaiveDate, language: &str) -> String {
    let iso = format!("{date}T00:00:00Z");
    let value = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&iso));
    if value.get_time().is_nan() {
        return date.to_string();
    }
    let options = js_sys::Object::new();
    for (key, value) in [("dateStyle", "medium"), ("timeZone", "UTC")] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    value.to_locale_date_string(language, &options).into()
}

/// `key` in `language`.
pub fn text(language: Language, key: impl Strings) -> &'static str {
    let (en, zh) = key.en_zh();
    match language {
        Language::English => en,
        Language::Chinese => zh,
    }
}

/// The current language, shared through context.
pub fn use_language() -> RwSignal<Language> {
    expect_context::<RwSignal<Language>>()
}

/// A reactive translation of `key`.
pub fn t(key: impl Strings) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let language = use_language();
    move || text(language.get(), key)
}

/// The language the switch changes to: the next one the app offers (of two, the other).
pub fn other(language: Language) -> Language {
    let at = Language::ALL.iter().position(|each| *each == language).unwrap_or(0);
    Language::ALL[(at + 1) % Language::ALL.len()]
}

/// The name of `language`, written in that language, for the switch.
pub fn own_name(language: Language) -> &'static str {
    match language {
        Language::English => "English",
        Language::Chinese => "简体中文",
    }
}

/// A time from the server, in the device's local time.
pub fn local_time(at: impl std::fmt::Display, language: &str) -> String {
    let rfc3339 = at.to_string();
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&rfc3339));
    if date.get_time().is_nan() {
        return rfc3339;
    }
    let options = js_sys::Object::new();
    for (key, value) in [("dateStyle", "medium"), ("timeStyle", "short")] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    date.to_locale_string(language, &options).into()
}
