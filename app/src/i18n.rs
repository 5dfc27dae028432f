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
        UnansweredHelp => "You may leave questions blank. Tap one to answer it.", "您可以不回答某些问题。点击即可回答。";
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
    }
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
