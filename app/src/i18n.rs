//! The app's own text in each language it ships (English and Simplified Chinese). Questionnaire
//! wording is not here: it comes from the server's wording pack.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Chinese,
}

impl Language {
    /// The tag the wording pack and the API use.
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh-CN",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Language> {
        match tag {
            "en" => Some(Language::English),
            "zh-CN" => Some(Language::Chinese),
            _ => None,
        }
    }

    pub fn other(self) -> Language {
        match self {
            Language::English => Language::Chinese,
            Language::Chinese => Language::English,
        }
    }

    /// The name of the language, written in that language, for the switch.
    pub fn own_name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::Chinese => "简体中文",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    AppName,
    Loading,
    Study,
    Questionnaires,
    Items,
    ServerProblem,
    Back,
    SwitchLanguage,
    NotFound,
    GoHome,
    Welcome,
    WelcomeLead,
    HaveCode,
    HavePin,
    StaffSignIn,
    ActivateTitle,
    ActivationCode,
    NewPin,
    NewPinAgain,
    PinHelp,
    PinsDiffer,
    Activate,
    SignInTitle,
    StudyId,
    Pin,
    SignIn,
    Username,
    Password,
    SignOut,
    DueNow,
    NothingDue,
    Until,
    ComingNext,
    Opens,
    Sent,
    SentTick,
    SavedOnPhone,
    Sending,
    NotSent,
    FeelWorse,
    FeelWorseLead,
    Start,
    Continue,
    QuestionOf,
    Of,
    Next,
    NotApplicableSection,
    CallMeTitle,
    CallMeYes,
    CallMeNo,
    ReviewTitle,
    AllAnswered,
    Unanswered,
    UnansweredHelp,
    SendNow,
    SentAt,
    ReceivedBy,
    StaffHomeTitle,
    StaffHomeLead,
    Retry,
    SelectedAnswer,
    RefusedConflict,
    RefusedInvalid,
    RefusedSignIn,
}

pub fn text(language: Language, key: Text) -> &'static str {
    use Language::*;
    use Text::*;
    match (key, language) {
        (AppName, English) => "Quality of life",
        (AppName, Chinese) => "生活质量",
        (Loading, English) => "Loading…",
        (Loading, Chinese) => "正在加载…",
        (Study, English) => "Study",
        (Study, Chinese) => "研究",
        (Questionnaires, English) => "Questionnaires",
        (Questionnaires, Chinese) => "问卷",
        (Items, English) => "items",
        (Items, Chinese) => "个条目",
        (ServerProblem, English) => "Something went wrong",
        (ServerProblem, Chinese) => "出现问题",
        (Back, English) => "Back",
        (Back, Chinese) => "返回",
        (SwitchLanguage, English) => "Language",
        (SwitchLanguage, Chinese) => "语言",
        (NotFound, English) => "This page does not exist.",
        (NotFound, Chinese) => "此页面不存在。",
        (GoHome, English) => "Go to the start page",
        (GoHome, Chinese) => "返回首页",
        (Welcome, English) => "Welcome",
        (Welcome, Chinese) => "欢迎",
        (WelcomeLead, English) => "Answer your quality-of-life questionnaires here. It takes a few minutes.",
        (WelcomeLead, Chinese) => "请在这里填写您的生活质量问卷，只需几分钟。",
        (HaveCode, English) => "I have an activation code",
        (HaveCode, Chinese) => "我有激活码",
        (HavePin, English) => "Sign in with my study ID and PIN",
        (HavePin, Chinese) => "用研究编号和PIN码登录",
        (StaffSignIn, English) => "Staff sign-in",
        (StaffSignIn, Chinese) => "工作人员登录",
        (ActivateTitle, English) => "Set up this phone",
        (ActivateTitle, Chinese) => "设置这部手机",
        (ActivationCode, English) => "Activation code from your research nurse",
        (ActivationCode, Chinese) => "研究护士给您的激活码",
        (NewPin, English) => "Choose a PIN (4 to 8 digits)",
        (NewPin, Chinese) => "设置PIN码（4到8位数字）",
        (NewPinAgain, English) => "Enter the PIN again",
        (NewPinAgain, Chinese) => "再次输入PIN码",
        (PinHelp, English) => "You will use this PIN to sign in next time.",
        (PinHelp, Chinese) => "下次登录时将使用此PIN码。",
        (PinsDiffer, English) => "The two PINs are not the same. Please enter them again.",
        (PinsDiffer, Chinese) => "两次输入的PIN码不一致，请重新输入。",
        (Activate, English) => "Activate",
        (Activate, Chinese) => "激活",
        (SignInTitle, English) => "Sign in",
        (SignInTitle, Chinese) => "登录",
        (StudyId, English) => "Study ID (for example IVB-017)",
        (StudyId, Chinese) => "研究编号（例如 IVB-017）",
        (Pin, English) => "PIN",
        (Pin, Chinese) => "PIN码",
        (SignIn, English) => "Sign in",
        (SignIn, Chinese) => "登录",
        (Username, English) => "Username",
        (Username, Chinese) => "用户名",
        (Password, English) => "Password",
        (Password, Chinese) => "密码",
        (SignOut, English) => "Sign out",
        (SignOut, Chinese) => "退出登录",
        (DueNow, English) => "Due now",
        (DueNow, Chinese) => "现在需要填写",
        (NothingDue, English) => "Nothing is due right now. Thank you!",
        (NothingDue, Chinese) => "目前没有需要填写的问卷。谢谢！",
        (Until, English) => "Please answer by",
        (Until, Chinese) => "请在此日期前填写：",
        (ComingNext, English) => "Coming next",
        (ComingNext, Chinese) => "下一份问卷",
        (Opens, English) => "Opens on",
        (Opens, Chinese) => "开放日期：",
        (Sent, English) => "Sent",
        (Sent, Chinese) => "已发送",
        (SentTick, English) => "Sent ✓",
        (SentTick, Chinese) => "已发送 ✓",
        (SavedOnPhone, English) => "Saved on this phone — will be sent automatically",
        (SavedOnPhone, Chinese) => "已保存在手机上——将自动发送",
        (Sending, English) => "Sending…",
        (Sending, Chinese) => "正在发送…",
        (NotSent, English) => "Could not be sent",
        (NotSent, Chinese) => "无法发送",
        (FeelWorse, English) => "I feel worse — report symptoms now",
        (FeelWorse, Chinese) => "我感觉更差了——现在报告症状",
        (FeelWorseLead, English) => "Tell your care team how you feel today, at any time.",
        (FeelWorseLead, Chinese) => "您可以随时告诉医护团队您今天的感受。",
        (Start, English) => "Start",
        (Start, Chinese) => "开始",
        (Continue, English) => "Continue",
        (Continue, Chinese) => "继续",
        (QuestionOf, English) => "Question",
        (QuestionOf, Chinese) => "问题",
        (Of, English) => "of",
        (Of, Chinese) => "/",
        (Next, English) => "Skip this question",
        (Next, Chinese) => "跳过此题",
        (NotApplicableSection, English) => "This part does not apply to me",
        (NotApplicableSection, Chinese) => "此部分不适用于我",
        (CallMeTitle, English) => "Would you like your research nurse to call you?",
        (CallMeTitle, Chinese) => "您希望研究护士给您打电话吗？",
        (CallMeYes, English) => "Yes, please call me",
        (CallMeYes, Chinese) => "是的，请给我打电话",
        (CallMeNo, English) => "No, thank you",
        (CallMeNo, Chinese) => "不用，谢谢",
        (ReviewTitle, English) => "Check and send",
        (ReviewTitle, Chinese) => "检查并发送",
        (AllAnswered, English) => "You answered every question.",
        (AllAnswered, Chinese) => "您已回答所有问题。",
        (Unanswered, English) => "Not answered",
        (Unanswered, Chinese) => "未回答",
        (UnansweredHelp, English) => "You may leave questions blank. Tap one to answer it.",
        (UnansweredHelp, Chinese) => "您可以不回答某些问题。点击即可回答。",
        (SendNow, English) => "Send",
        (SendNow, Chinese) => "发送",
        (SentAt, English) => "received",
        (SentAt, Chinese) => "接收于",
        (ReceivedBy, English) => "Your answers were received. Thank you.",
        (ReceivedBy, Chinese) => "您的回答已收到。谢谢。",
        (StaffHomeTitle, English) => "Staff",
        (StaffHomeTitle, Chinese) => "工作人员",
        (StaffHomeLead, English) => "Open the staff console",
        (StaffHomeLead, Chinese) => "打开工作人员控制台",
        (Retry, English) => "Try again",
        (Retry, Chinese) => "重试",
        (SelectedAnswer, English) => "selected",
        (SelectedAnswer, Chinese) => "已选择",
        (RefusedConflict, English) => {
            "The time for this questionnaire has passed, or it was already sent. Your research nurse can help."
        }
        (RefusedConflict, Chinese) => "此问卷的填写时间已过，或已经发送过。研究护士可以帮助您。",
        (RefusedInvalid, English) => "Some answers could not be accepted. Your research nurse can help.",
        (RefusedInvalid, Chinese) => "部分回答无法被接受。研究护士可以帮助您。",
        (RefusedSignIn, English) => "Please sign in again; your answers are kept on this phone.",
        (RefusedSignIn, Chinese) => "请重新登录；您的回答已保存在手机上。",
    }
}

/// The current language, shared through context.
pub fn use_language() -> RwSignal<Language> {
    expect_context::<RwSignal<Language>>()
}

/// A reactive translation of `key`.
pub fn t(key: Text) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let language = use_language();
    move || text(language.get(), key)
}

/// A time from the server, in the device's local time.
pub fn local_time(rfc3339: &str, language: &str) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_owned();
    }
    let options = js_sys::Object::new();
    for (key, value) in [("dateStyle", "medium"), ("timeStyle", "short")] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    date.to_locale_string(language, &options).into()
}
