//! The parse step: untrusted answers (API JSON, CSV cells) become [`Answers`] once, at the edge,
//! or every problem is reported. Scoring takes only [`Answers`], so it never sees a bad code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::instrument::{Instrument, InstrumentId};

/// One answer as it arrives from outside, before validation.
///
/// JSON: `{"item": 12, "response": 3}` or `{"item": 50, "response": "not_applicable"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RawAnswer {
    pub item: i64,
    pub response: RawResponse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RawResponse {
    Code(i64),
    Marker(ResponseMarker),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ResponseMarker {
    /// The item belongs to a conditional section that does not apply to this patient.
    #[serde(rename = "not_applicable")]
    NotApplicable,
}

impl RawAnswer {
    pub fn code(item: i64, code: i64) -> RawAnswer {
        RawAnswer { item, response: RawResponse::Code(code) }
    }

    pub fn not_applicable(item: i64) -> RawAnswer {
        RawAnswer { item, response: RawResponse::Marker(ResponseMarker::NotApplicable) }
    }
}

/// A validated response to one item. A skipped item has no entry at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Code(u8),
    NotApplicable,
}

/// One problem with a set of answers. Messages say what is wrong and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum AnswerError {
    #[error("item {item} is not part of {instrument} (its items are {first}–{last})")]
    UnknownItem { item: i64, instrument: InstrumentId, first: u8, last: u8 },
    #[error("item {item} has code {code}, but its allowed codes are {lowest}–{highest}")]
    CodeOutOfRange { item: u8, code: i64, lowest: u8, highest: u8 },
    #[error("item {item} is answered more than once; send each item at most once")]
    DuplicateItem { item: u8 },
    #[error("item {item} cannot be marked not applicable: only the items of a conditional section can")]
    NotApplicableNotAllowed { item: u8 },
    #[error(
        "item {item} has an answer, but its section \"{section}\" is marked not applicable; \
         either answer the section or mark all of it not applicable"
    )]
    AnswerInNotApplicableSection { item: u8, section: String },
    #[error(
        "item {item} has an answer, but item {gate} was answered {code} (\"{section}\" does not apply): \
         leave items {first}–{last} out or mark them not applicable"
    )]
    AnswerWhereGateSaysNotApplicable { item: u8, gate: u8, code: u8, section: String, first: u8, last: u8 },
    #[error(
        "item {item} is marked not applicable, but item {gate} was answered {code}, so \"{section}\" applies: \
         answer items {first}–{last} or leave any of them unanswered"
    )]
    NotApplicableWhereGateSaysApplies { item: u8, gate: u8, code: u8, section: String, first: u8, last: u8 },
}

/// Every problem found in one set of answers, in item order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerErrors(pub Vec<AnswerError>);

impl std::fmt::Display for AnswerErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AnswerErrors {}

/// A validated set of answers to one instrument: every item known, every code in range, no item
/// twice, and conditional sections either answered or wholly not applicable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    instrument: InstrumentId,
    responses: Responses,
}

/// The highest item number of any instrument (QLQ-CX24's last item); a test pins it.
const MAX_ITEM: usize = 54;

/// The tables by item number are this long (64), a power of two above [`MAX_ITEM`]: an item
/// number masked with `TABLE - 1` indexes them without a bounds check, and is itself for every
/// item.
const TABLE: usize = (MAX_ITEM + 1).next_power_of_two();

/// A response as one byte of [`Responses`]: 0 for a skipped item, the code itself (1–7), or
/// this for "not applicable". Codes fit under it (a test pins that), so `byte & CODE_BITS` is
/// the code, or 0 when there is none.
const NOT_APPLICABLE: u8 = 0x80;
const CODE_BITS: u8 = 0x7f;

/// Responses by item number, a byte each (see [`NOT_APPLICABLE`]): a fixed table rather than a
/// map, so parsing and scoring a form allocate nothing (`qol score` parses one per CSV row), and
/// scoring adds codes without branching on whether each item was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Responses([u8; TABLE]);

impl Responses {
    fn new() -> Responses {
        Responses([0; TABLE])
    }

    /// `item`'s byte, for an item of an instrument's table (at most [`MAX_ITEM`], so the mask
    /// changes nothing and there is no bounds check to make).
    #[inline]
    fn byte(&self, item: u8) -> u8 {
        self.0[usize::from(item) & (TABLE - 1)]
    }

    /// `item`'s response; none for any number that is no item.
    #[inline]
    fn get(&self, item: u8) -> Option<Response> {
        decode(self.0.get(usize::from(item)).copied().unwrap_or(0))
    }

    /// Sets `item`'s byte; returns the one it had. Items come from an instrument's table, so
    /// they are in range.
    fn set(&mut self, item: u8, byte: u8) -> u8 {
        std::mem::replace(&mut self.0[usize::from(item) & (TABLE - 1)], byte)
    }

    fn iter(&self) -> impl Iterator<Item = (u8, Response)> + '_ {
        (0u8..).zip(self.0.iter()).filter_map(|(item, byte)| decode(*byte).map(|r| (item, r)))
    }
}

#[inline]
fn decode(byte: u8) -> Option<Response> {
    match byte {
        0 => None,
        NOT_APPLICABLE => Some(Response::NotApplicable),
        code => Some(Response::Code(code)),
    }
}

/// What each item number of an instrument accepts, looked up once per answer: bit `c` is set
/// when code `c` is allowed, [`MAY_BE_NOT_APPLICABLE`] when the item may be marked not
/// applicable (it is in a conditional section); 0 for a number that is not one of its items.
/// Built from the instrument tables when compiling.
type ItemRules = [u16; TABLE];
const MAY_BE_NOT_APPLICABLE: u16 = 1 << 15;

const fn item_rules(instrument: &Instrument) -> ItemRules {
    let mut rules = [0u16; TABLE];
    let mut i = 0;
    while i < instrument.items.len() {
        let item = &instrument.items[i];
        let scale = item.response_scale;
        let mut code = scale.lowest();
        while code <= scale.highest() {
            rules[item.number as usize] |= 1 << code;
            code += 1;
        }
        i += 1;
    }
    let mut s = 0;
    while s < instrument.conditional_sections.len() {
        let items = instrument.conditional_sections[s].items;
        let mut j = 0;
        while j < items.len() {
            rules[items[j] as usize] |= MAY_BE_NOT_APPLICABLE;
            j += 1;
        }
        s += 1;
    }
    rules
}

static C30_RULES: ItemRules = item_rules(&crate::instrument::QLQ_C30);
static CX24_RULES: ItemRules = item_rules(&crate::instrument::QLQ_CX24);

fn rules_of(instrument: InstrumentId) -> &'static ItemRules {
    match instrument {
        InstrumentId::QlqC30 => &C30_RULES,
        InstrumentId::QlqCx24 => &CX24_RULES,
    }
}

impl Answers {
    /// Validates `raw` against `instrument`, reporting every problem, not just the first.
    ///
    /// A section with at least one `not_applicable` marker and no codes is not applicable as a
    /// whole: its unmarked items are recorded as not applicable too.
    pub fn parse(
        instrument: InstrumentId,
        raw: impl IntoIterator<Item = RawAnswer>,
    ) -> Result<Answers, AnswerErrors> {
        let mut reader = AnswersReader::new(instrument);
        for answer in raw {
            reader.add(answer);
        }
        reader.finish()
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    /// The response to `item`, or `None` when it was skipped.
    #[inline]
    pub fn response(&self, item: u8) -> Option<Response> {
        self.responses.get(item)
    }

    pub fn iter(&self) -> impl Iterator<Item = (u8, Response)> + '_ {
        self.responses.iter()
    }

    /// For scoring `items`: the sum of their codes, how many have one, and whether any is marked
    /// not applicable. Adds without branching on each item, so a skipped item costs no
    /// mispredicted branch.
    #[inline]
    pub(crate) fn tally(&self, items: &[u8]) -> (u32, usize, bool) {
        let (mut sum, mut answered, mut marks) = (0u32, 0usize, 0u8);
        for item in items {
            let byte = self.responses.byte(*item);
            let code = byte & CODE_BITS;
            sum += u32::from(code);
            answered += usize::from(code != 0);
            marks |= byte & NOT_APPLICABLE;
        }
        (sum, answered, marks != 0)
    }

    /// The answers in the form they are sent in, for storage and round trips.
    pub fn to_raw(&self) -> Vec<RawAnswer> {
        self.iter()
            .map(|(item, response)| match response {
                Response::Code(code) => RawAnswer::code(item.into(), code.into()),
                Response::NotApplicable => RawAnswer::not_applicable(item.into()),
            })
            .collect()
    }
}

/// Reads forms answer by answer, checking them as [`Answers::parse`] does (which runs on it), into
/// a table reused form after form: `qol score` fills it from each CSV row's cells, with no list
/// of answers in between and nothing allocated.
#[derive(Debug, Clone)]
pub struct AnswersReader {
    instrument: InstrumentId,
    rules: &'static ItemRules,
    responses: Responses,
    errors: Vec<AnswerError>,
}

impl AnswersReader {
    pub fn new(instrument: InstrumentId) -> AnswersReader {
        AnswersReader {
            instrument,
            rules: rules_of(instrument),
            responses: Responses::new(),
            errors: Vec::new(),
        }
    }

    /// Reads one answer of the current form; a problem is kept for [`AnswersReader::finish`].
    #[inline]
    pub fn add(&mut self, answer: RawAnswer) {
        // The common answer, a code its item accepts, in a few instructions (inlined into the
        // caller's loop); a marker or a refused answer takes the general path, which reads it
        // the same way.
        if let RawResponse::Code(code) = answer.response
            && let Some(rule) = usize::try_from(answer.item).ok().and_then(|index| self.rules.get(index))
            && (0..15).contains(&code)
            && rule & (1 << code) != 0
        {
            // An accepted code is below 15 and its item below `TABLE`.
            if self.responses.set(answer.item as u8, code as u8) != 0 {
                self.refuse(AnswerError::DuplicateItem { item: answer.item as u8 });
            }
            return;
        }
        self.add_other(answer);
    }

    #[cold]
    #[inline(never)]
    fn refuse(&mut self, error: AnswerError) {
        self.errors.push(error);
    }

    /// Any answer, read and checked in full: what [`AnswersReader::add`] does with what is not a
    /// plain accepted code.
    #[inline(never)]
    fn add_other(&mut self, answer: RawAnswer) {
        let rules = self.rules;
        // One lookup says whether the item is one of the instrument's and what it accepts.
        let (number, rule) = match usize::try_from(answer.item) {
            Ok(index) if index < rules.len() && rules[index] != 0 => (index as u8, rules[index]),
            _ => return self.errors.push(unknown_item(self.instrument, answer.item)),
        };
        let byte = match answer.response {
            RawResponse::Code(code) => match u8::try_from(code) {
                Ok(code) if code < 15 && rule & (1 << code) != 0 => code,
                _ => return self.errors.push(code_out_of_range(self.instrument, number, code)),
            },
            RawResponse::Marker(ResponseMarker::NotApplicable) => {
                if rule & MAY_BE_NOT_APPLICABLE == 0 {
                    return self.errors.push(AnswerError::NotApplicableNotAllowed { item: number });
                }
                NOT_APPLICABLE
            }
        };
        if self.responses.set(number, byte) != 0 {
            self.errors.push(AnswerError::DuplicateItem { item: number });
        }
    }

    /// Ends the current form: checks its sections and gives its answers, or every problem it
    /// has, not just the first. The reader is then empty, for the next form.
    pub fn finish(&mut self) -> Result<Answers, AnswerErrors> {
        let mut responses = std::mem::replace(&mut self.responses, Responses::new());
        check_sections(self.instrument.instrument(), &mut responses, &mut self.errors);
        if self.errors.is_empty() {
            Ok(Answers { instrument: self.instrument, responses })
        } else {
            let mut errors = std::mem::take(&mut self.errors);
            errors.sort_by_key(error_item);
            errors.dedup();
            Err(AnswerErrors(errors))
        }
    }
}

/// Brings a draft in line with the sections' deciding answers, as the server will read it: after
/// CX24 item 49 "not at all" the items 50–54 are not applicable; after any other answer to it
/// they apply (a "does not apply" mark there is removed, so they are asked). The app calls this
/// on every answer and before sending, so no draft — one resumed from an older app included —
/// is sent in a form the server refuses.
pub fn settle_sections(answers: &mut BTreeMap<u8, Response>) {
    for id in InstrumentId::ALL {
        for section in id.instrument().conditional_sections {
            let Some((gate, off)) = section.not_applicable_when else { continue };
            let Some(Response::Code(code)) = answers.get(&gate).copied() else { continue };
            for item in section.items {
                if code == off {
                    answers.insert(*item, Response::NotApplicable);
                } else if answers.get(item) == Some(&Response::NotApplicable) {
                    answers.remove(item);
                }
            }
        }
    }
}

#[cold]
fn unknown_item(instrument: InstrumentId, item: i64) -> AnswerError {
    let numbers = instrument.instrument().item_numbers();
    AnswerError::UnknownItem { item, instrument, first: *numbers.start(), last: *numbers.end() }
}

#[cold]
fn code_out_of_range(instrument: InstrumentId, item: u8, code: i64) -> AnswerError {
    // `item` passed the rules table, so it is one of the instrument's.
    let scale = instrument.instrument().item(item).map(|item| item.response_scale);
    let (lowest, highest) = scale.map_or((0, 0), |scale| (scale.lowest(), scale.highest()));
    AnswerError::CodeOutOfRange { item, code, lowest, highest }
}

fn check_sections(definition: &Instrument, responses: &mut Responses, errors: &mut Vec<AnswerError>) {
    for section in definition.conditional_sections {
        let first = section.items.iter().copied().min().unwrap_or_default();
        let last = section.items.iter().copied().max().unwrap_or_default();
        // The gate item, when answered, decides: its "does not apply" code makes the section not
        // applicable (answers there are refused); any other code makes it apply (markers there
        // are refused).
        if let Some((gate, off)) = section.not_applicable_when
            && let Some(Response::Code(code)) = responses.get(gate)
        {
            for item in section.items {
                match (responses.get(*item), code == off) {
                    (Some(Response::Code(_)), true) => {
                        errors.push(AnswerError::AnswerWhereGateSaysNotApplicable {
                            item: *item,
                            gate,
                            code,
                            section: section.id.to_owned(),
                            first,
                            last,
                        })
                    }
                    (Some(Response::NotApplicable), false) => {
                        errors.push(AnswerError::NotApplicableWhereGateSaysApplies {
                            item: *item,
                            gate,
                            code,
                            section: section.id.to_owned(),
                            first,
                            last,
                        })
                    }
                    _ => {}
                }
            }
            if code == off {
                for item in section.items {
                    responses.set(*item, NOT_APPLICABLE);
                }
            }
            continue;
        }
        let marked = section.items.iter().any(|item| responses.get(*item) == Some(Response::NotApplicable));
        if !marked {
            continue;
        }
        let mut answered = false;
        for item in section.items {
            if let Some(Response::Code(_)) = responses.get(*item) {
                answered = true;
                errors.push(AnswerError::AnswerInNotApplicableSection {
                    item: *item,
                    section: section.id.to_owned(),
                });
            }
        }
        if !answered {
            for item in section.items {
                responses.set(*item, NOT_APPLICABLE);
            }
        }
    }
}

fn error_item(error: &AnswerError) -> i64 {
    match error {
        AnswerError::UnknownItem { item, .. } => *item,
        AnswerError::CodeOutOfRange { item, .. }
        | AnswerError::DuplicateItem { item }
        | AnswerError::NotApplicableNotAllowed { item }
        | AnswerError::AnswerInNotApplicableSection { item, .. }
        | AnswerError::AnswerWhereGateSaysNotApplicable { item, .. }
        | AnswerError::NotApplicableWhereGateSaysApplies { item, .. } => i64::from(*item),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstrumentId::{QlqC30, QlqCx24};
    use proptest::prelude::*;

    #[test]
    fn every_item_number_fits_the_response_table() {
        for id in InstrumentId::ALL {
            assert!(usize::from(*id.instrument().item_numbers().end()) <= MAX_ITEM, "{id}");
            assert_eq!(TABLE, 64);
        }
    }

    fn parse(instrument: InstrumentId, raw: Vec<RawAnswer>) -> Result<Answers, Vec<AnswerError>> {
        Answers::parse(instrument, raw).map_err(|errors| errors.0)
    }

    #[test]
    fn a_reader_starts_each_form_afresh_after_a_good_or_a_refused_one() {
        let mut reader = AnswersReader::new(QlqCx24);
        // A refused form: a duplicate, and answers in a section its gate says does not apply.
        for answer in
            [RawAnswer::code(31, 2), RawAnswer::code(31, 3), RawAnswer::code(49, 1), RawAnswer::code(50, 2)]
        {
            reader.add(answer);
        }
        let refused = reader.finish().unwrap_err().0;
        assert_eq!(
            refused,
            parse(
                QlqCx24,
                vec![
                    RawAnswer::code(31, 2),
                    RawAnswer::code(31, 3),
                    RawAnswer::code(49, 1),
                    RawAnswer::code(50, 2)
                ]
            )
            .unwrap_err()
        );
        // The next form holds only its own answers, and the one after a good form too.
        for round in 0..2 {
            reader.add(RawAnswer::code(32, 4));
            let answers = reader.finish().unwrap();
            assert_eq!(answers.iter().collect::<Vec<_>>(), vec![(32, Response::Code(4))], "round {round}");
        }
    }

    #[test]
    fn every_code_fits_below_the_not_applicable_byte_and_the_rules_bits() {
        for id in InstrumentId::ALL {
            for item in id.instrument().items {
                let scale = item.response_scale;
                assert!(scale.lowest() >= 1, "code 0 is the skipped item's byte");
                assert!(
                    scale.highest() < 15 && scale.highest() & NOT_APPLICABLE == 0,
                    "{id} {}",
                    item.number
                );
            }
        }
    }

    /// The parse rules written plainly (a map; the instrument tables searched for each answer),
    /// to hold the table-driven parse to.
    fn reference(
        instrument: InstrumentId,
        raw: &[RawAnswer],
    ) -> Result<BTreeMap<u8, Response>, Vec<AnswerError>> {
        use Response::{Code, NotApplicable};
        let definition = instrument.instrument();
        let mut errors = Vec::new();
        let mut map = BTreeMap::new();
        for answer in raw {
            let Some(item) = definition.items.iter().find(|item| i64::from(item.number) == answer.item)
            else {
                let (first, last) = (definition.items[0].number, definition.items.last().unwrap().number);
                errors.push(AnswerError::UnknownItem { item: answer.item, instrument, first, last });
                continue;
            };
            let number = item.number;
            let response = match answer.response {
                RawResponse::Code(code) => {
                    let (lowest, highest) = (item.response_scale.lowest(), item.response_scale.highest());
                    if code < i64::from(lowest) || code > i64::from(highest) {
                        errors.push(AnswerError::CodeOutOfRange { item: number, code, lowest, highest });
                        continue;
                    }
                    Code(code as u8)
                }
                RawResponse::Marker(_) => {
                    if !definition.conditional_sections.iter().any(|s| s.items.contains(&number)) {
                        errors.push(AnswerError::NotApplicableNotAllowed { item: number });
                        continue;
                    }
                    NotApplicable
                }
            };
            if map.insert(number, response).is_some() {
                errors.push(AnswerError::DuplicateItem { item: number });
            }
        }
        for section in definition.conditional_sections {
            let (first, last) = (section.items[0], *section.items.last().unwrap());
            let name = || section.id.to_owned();
            if let Some((gate, off)) = section.not_applicable_when
                && let Some(Code(code)) = map.get(&gate).copied()
            {
                for &item in section.items {
                    match map.get(&item) {
                        Some(Code(_)) if code == off => {
                            errors.push(AnswerError::AnswerWhereGateSaysNotApplicable {
                                item,
                                gate,
                                code,
                                section: name(),
                                first,
                                last,
                            })
                        }
                        Some(NotApplicable) if code != off => {
                            errors.push(AnswerError::NotApplicableWhereGateSaysApplies {
                                item,
                                gate,
                                code,
                                section: name(),
                                first,
                                last,
                            })
                        }
                        _ => {}
                    }
                }
                if code == off {
                    map.extend(section.items.iter().map(|item| (*item, NotApplicable)));
                }
            } else if section.items.iter().any(|item| map.get(item) == Some(&NotApplicable)) {
                let answered: Vec<u8> = section
                    .items
                    .iter()
                    .copied()
                    .filter(|item| matches!(map.get(item), Some(Code(_))))
                    .collect();
                for &item in &answered {
                    errors.push(AnswerError::AnswerInNotApplicableSection { item, section: name() });
                }
                if answered.is_empty() {
                    map.extend(section.items.iter().map(|item| (*item, NotApplicable)));
                }
            }
        }
        if errors.is_empty() {
            Ok(map)
        } else {
            errors.sort_by_key(error_item);
            errors.dedup();
            Err(errors)
        }
    }

    /// Answers near an instrument's items: mostly valid codes, with skips, markers, codes out of
    /// range, items out of range, repeats.
    fn near_answers() -> impl Strategy<Value = (InstrumentId, Vec<RawAnswer>)> {
        let answer = (-2i64..58, 0u8..20, -1i64..10).prop_map(|(item, kind, code)| match kind {
            0 => RawAnswer::not_applicable(item),
            _ => RawAnswer::code(item, code),
        });
        let valid = |id: InstrumentId| {
            let items: Vec<(u8, u8)> = id
                .instrument()
                .items
                .iter()
                .map(|item| (item.number, item.response_scale.highest()))
                .collect();
            items
                .into_iter()
                .map(|(number, highest)| {
                    (0u8..20, 1..=highest).prop_map(move |(kind, code)| match kind {
                        0 | 1 => None,
                        2 => Some(RawAnswer::not_applicable(number.into())),
                        _ => Some(RawAnswer::code(number.into(), code.into())),
                    })
                })
                .collect::<Vec<_>>()
        };
        (prop::sample::select(InstrumentId::ALL.to_vec()), prop::collection::vec(answer, 0..4), 0u8..4)
            .prop_flat_map(move |(id, noise, mode)| {
                (Just(id), valid(id), Just(noise), Just(mode)).prop_map(|(id, valid, noise, mode)| {
                    let mut raw: Vec<RawAnswer> = valid.into_iter().flatten().collect();
                    // Half the cases without noise, so that most of those parse.
                    if mode >= 2 {
                        raw.extend(noise);
                    }
                    (id, raw)
                })
            })
    }

    proptest::proptest! {
        #[test]
        fn the_table_driven_parse_agrees_with_the_plain_rules((id, raw) in near_answers()) {
            let parsed = Answers::parse(id, raw.iter().copied())
                .map(|answers| answers.iter().collect::<BTreeMap<u8, Response>>())
                .map_err(|errors| errors.0);
            proptest::prop_assert_eq!(parsed, reference(id, &raw));
        }
    }

    #[test]
    fn valid_codes_are_kept_and_skipped_items_are_absent() {
        let answers = parse(QlqC30, vec![RawAnswer::code(1, 1), RawAnswer::code(30, 7)]).unwrap();
        assert_eq!(answers.response(1), Some(Response::Code(1)));
        assert_eq!(answers.response(30), Some(Response::Code(7)));
        assert_eq!(answers.response(2), None);
    }

    #[test]
    fn each_kind_of_problem_is_reported_with_every_other_one() {
        let errors = parse(
            QlqC30,
            vec![
                RawAnswer::code(0, 1),
                RawAnswer::code(31, 1),
                RawAnswer::code(2, 5),
                RawAnswer::code(29, 8),
                RawAnswer::code(3, 0),
                RawAnswer::code(4, 2),
                RawAnswer::code(4, 3),
                RawAnswer::not_applicable(5),
            ],
        )
        .unwrap_err();
        assert_eq!(
            errors,
            vec![
                AnswerError::UnknownItem { item: 0, instrument: QlqC30, first: 1, last: 30 },
                AnswerError::CodeOutOfRange { item: 2, code: 5, lowest: 1, highest: 4 },
                AnswerError::CodeOutOfRange { item: 3, code: 0, lowest: 1, highest: 4 },
                AnswerError::DuplicateItem { item: 4 },
                AnswerError::NotApplicableNotAllowed { item: 5 },
                AnswerError::CodeOutOfRange { item: 29, code: 8, lowest: 1, highest: 7 },
                AnswerError::UnknownItem { item: 31, instrument: QlqC30, first: 1, last: 30 },
            ]
        );
    }

    #[test]
    fn huge_and_negative_codes_and_items_are_errors_not_panics() {
        let errors =
            parse(QlqC30, vec![RawAnswer::code(i64::MAX, 1), RawAnswer::code(1, i64::MIN)]).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(matches!(errors[0], AnswerError::CodeOutOfRange { item: 1, .. }));
        assert!(matches!(errors[1], AnswerError::UnknownItem { item: i64::MAX, .. }));
    }

    #[test]
    fn one_not_applicable_marker_makes_the_whole_section_not_applicable() {
        let answers = parse(QlqCx24, vec![RawAnswer::code(49, 1), RawAnswer::not_applicable(50)]).unwrap();
        for item in 50..=54 {
            assert_eq!(answers.response(item), Some(Response::NotApplicable), "item {item}");
        }
        assert_eq!(answers.response(49), Some(Response::Code(1)));
    }

    #[test]
    fn an_answer_inside_a_not_applicable_section_is_refused() {
        let errors = parse(QlqCx24, vec![RawAnswer::not_applicable(50), RawAnswer::code(53, 2)]).unwrap_err();
        assert_eq!(
            errors,
            vec![AnswerError::AnswerInNotApplicableSection { item: 53, section: "sexually-active".into() }]
        );
    }

    #[test]
    fn item_49_not_at_all_makes_items_50_to_54_not_applicable_and_refuses_answers_there() {
        // "Not at all" sexually active, nothing after: the server records 50–54 not applicable.
        let answers = parse(QlqCx24, vec![RawAnswer::code(49, 1)]).unwrap();
        for item in 50..=54 {
            assert_eq!(answers.response(item), Some(Response::NotApplicable), "item {item}");
        }
        // "Not at all" with answers after it: refused, naming each answered item.
        let errors =
            parse(QlqCx24, vec![RawAnswer::code(49, 1), RawAnswer::code(50, 2), RawAnswer::code(54, 1)])
                .unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(matches!(
            errors[0],
            AnswerError::AnswerWhereGateSaysNotApplicable { item: 50, gate: 49, code: 1, .. }
        ));
        assert_eq!(
            errors[1].to_string(),
            "item 54 has an answer, but item 49 was answered 1 (\"sexually-active\" does not apply): leave items 50–54 out or mark them not applicable"
        );
        // Marked not applicable explicitly: accepted.
        assert!(parse(QlqCx24, vec![RawAnswer::code(49, 1), RawAnswer::not_applicable(50)]).is_ok());
    }

    #[test]
    fn a_draft_is_settled_into_what_the_server_accepts() {
        let mut draft: BTreeMap<u8, Response> =
            [(49, Response::Code(1)), (50, Response::Code(2)), (53, Response::Code(4))].into();
        settle_sections(&mut draft);
        assert!((50..=54).all(|item| draft[&item] == Response::NotApplicable));
        let raw: Vec<RawAnswer> = draft
            .iter()
            .map(|(item, r)| match r {
                Response::Code(code) => RawAnswer::code((*item).into(), (*code).into()),
                Response::NotApplicable => RawAnswer::not_applicable((*item).into()),
            })
            .collect();
        assert!(parse(QlqCx24, raw).is_ok());
        draft.insert(49, Response::Code(3));
        settle_sections(&mut draft);
        assert_eq!(draft.len(), 1, "50–54 apply again and are to be asked: {draft:?}");
    }

    #[test]
    fn any_other_answer_to_item_49_makes_items_50_to_54_apply() {
        let errors = parse(QlqCx24, vec![RawAnswer::code(49, 4), RawAnswer::not_applicable(50)]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().starts_with("item 50 is marked not applicable, but item 49 was answered 4")
        );
        // Answered, or skipped like any other item.
        let answers = parse(QlqCx24, vec![RawAnswer::code(49, 3), RawAnswer::code(50, 2)]).unwrap();
        assert_eq!(answers.response(50), Some(Response::Code(2)));
        assert_eq!(answers.response(51), None);
        // Item 49 skipped: the section is decided by its own markers, as before.
        let skipped = parse(QlqCx24, vec![RawAnswer::not_applicable(50)]).unwrap();
        assert_eq!(skipped.response(54), Some(Response::NotApplicable));
    }

    #[test]
    fn the_raw_form_round_trips() {
        let raw = vec![RawAnswer::code(31, 2), RawAnswer::code(54, 4)];
        let answers = parse(QlqCx24, raw.clone()).unwrap();
        assert_eq!(answers.to_raw(), raw);
        let section = parse(QlqCx24, vec![RawAnswer::not_applicable(52)]).unwrap();
        assert_eq!(parse(QlqCx24, section.to_raw()).unwrap(), section);
    }

    #[test]
    fn raw_answers_read_from_json_with_codes_or_the_not_applicable_marker() {
        let raw: Vec<RawAnswer> = serde_json::from_str(
            r#"[{"item": 1, "response": 2}, {"item": 50, "response": "not_applicable"}]"#,
        )
        .unwrap();
        assert_eq!(raw, vec![RawAnswer::code(1, 2), RawAnswer::not_applicable(50)]);
        assert!(serde_json::from_str::<RawAnswer>(r#"{"item": 1, "response": "maybe"}"#).is_err());
    }

    #[test]
    fn error_messages_name_the_item_and_what_is_allowed() {
        let message = AnswerError::CodeOutOfRange { item: 29, code: 9, lowest: 1, highest: 7 }.to_string();
        assert_eq!(message, "item 29 has code 9, but its allowed codes are 1–7");
    }
}
