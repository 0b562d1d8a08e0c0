//! Unit tests of the checker: each getter on a good value, a wrong type and a bad value; blank
//! strings; unknown keys; paths through nested tables and arrays; every problem collected.

use super::*;

/// Run `read` over `text` at the root; the value and every problem as `path: message`.
fn check<T>(text: &str, read: impl FnOnce(&Check<'_>) -> T) -> (T, Vec<String>) {
    check_at(text, "", read)
}

fn check_at<T>(text: &str, path: &str, read: impl FnOnce(&Check<'_>) -> T) -> (T, Vec<String>) {
    let table: Table = text.parse().expect("test TOML is valid");
    let mut problems = Vec::new();
    let value = walk(&table, path, &mut problems, read);
    (value, problems.iter().map(ToString::to_string).collect())
}

#[test]
fn a_missing_key_is_none_and_no_problem() {
    let (values, problems) = check("", |c| {
        (c.string("a"), c.line("a"), c.integer("a", 0..=1), c.boolean("a"), c.duration("a"), c.strings("a"))
    });
    assert_eq!(values, (None, None, None, None, None, None));
    assert!(check("", |c| c.table("a").is_none() && c.tables("a").is_empty()).0);
    assert_eq!(problems, Vec::<String>::new());
}

#[test]
fn strings_must_not_be_blank() {
    let (values, problems) = check("a = \"\"\nb = \"  \\t\"\nc = \"ok\"\nd = 4\n", |c| {
        [c.string("a"), c.line("b"), c.string("c"), c.line("d")]
    });
    assert_eq!(values, [None, None, Some("ok".to_string()), None]);
    assert_eq!(problems, ["a: must not be empty", "b: must not be empty", "d: expected a string, found integer"]);
}

#[test]
fn a_line_is_one_line_but_a_string_may_span_several() {
    let (values, problems) = check("a = \"one\\ntwo\"\nb = \"one\\r\\ntwo\"\n", |c| (c.string("a"), c.line("b")));
    assert_eq!(values, (Some("one\ntwo".to_string()), None));
    assert_eq!(problems, ["b: must be one line"]);
}

#[test]
fn integers_are_checked_against_their_range_and_the_refused_number_is_named() {
    let (values, problems) = check("a = 5\nb = 70000\nc = \"5\"\nd = 0\n", |c| {
        [c.integer("a", 1..=10), c.integer("b", 1..=65535), c.integer("c", 1..=10), c.integer("d", 0..=0)]
    });
    assert_eq!(values, [Some(5), None, None, Some(0)]);
    assert_eq!(problems, ["b: must be between 1 and 65535, not 70000", "c: expected an integer, found string"]);
}

#[test]
fn booleans_are_true_or_false() {
    let (values, problems) = check("a = true\nb = \"yes\"\n", |c| [c.boolean("a"), c.boolean("b")]);
    assert_eq!(values, [Some(true), None]);
    assert_eq!(problems, ["b: expected true or false, found string"]);
}

#[test]
fn durations_parse_and_positive_ones_refuse_zero_and_the_maximum_is_kept() {
    let text = "a = \"1h30m\"\nb = \"0s\"\nc = \"0s\"\nd = \"2h\"\ne = \"soon\"\nf = 30\n";
    let (values, problems) = check(text, |c| {
        [
            c.duration("a"),
            c.duration("b"),
            c.positive_duration("c"),
            c.positive_duration_up_to("d", Duration::from_hours(1)),
            c.duration("e"),
            c.positive_duration("f"),
        ]
    });
    assert_eq!(values, [Some(Duration::from_mins(90)), Some(Duration::ZERO), None, None, None, None]);
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert_eq!(problems[0], "c: must be longer than 0s");
    assert_eq!(problems[1], "d: must be longer than 0s and at most 1h");
    assert!(problems[2].starts_with("e: invalid duration \"soon\""), "{problems:#?}");
    assert_eq!(problems[3], "f: expected a string, found integer");
}

#[test]
fn a_word_stands_for_its_value_and_an_unknown_one_lists_the_choices() {
    let words = [("daily", 1), ("weekly", 7)];
    let (values, problems) = check("a = \"weekly\"\nb = \"monthly\"\n", |c| [c.word("a", &words), c.word("b", &words)]);
    assert_eq!(values, [Some(7), None]);
    assert_eq!(problems, ["b: unknown value \"monthly\" (expected \"daily\" or \"weekly\")"]);
    let three = [("a", 'a'), ("b", 'b'), ("c", 'c')];
    let (_, problems) = check("k = \"d\"\n", |c| c.word("k", &three));
    assert_eq!(problems, ["k: unknown value \"d\" (expected \"a\", \"b\" or \"c\")"]);
}

#[test]
fn parsed_values_report_the_parser_message_at_the_key() {
    let (values, problems) = check("a = \"7\"\nb = \"x\"\n", |c| {
        let number = |s: &str| s.parse::<u8>().map_err(|e| format!("{s:?} is not a number: {e}"));
        [c.parsed("a", number), c.parsed("b", number)]
    });
    assert_eq!(values, [Some(7), None]);
    assert_eq!(problems, ["b: \"x\" is not a number: invalid digit found in string"]);
}

#[test]
fn kebab_ids_are_lower_case_words_joined_by_dashes() {
    for good in ["vp-engineering", "p0", "a"] {
        assert!(is_kebab_case(good), "{good}");
    }
    for bad in ["", "Ann", "ann smith", "-a", "a-", "a_b", &"a".repeat(65)] {
        assert!(!is_kebab_case(bad), "{bad}");
    }
    let (value, problems) = check("id = \"Ann Smith\"\n", |c| c.kebab_id("id", "vp-engineering"));
    assert_eq!(value, None);
    assert_eq!(problems, ["id: \"Ann Smith\" is not a kebab-case id like \"vp-engineering\""]);
}

#[test]
fn time_zones_and_times_of_day_parse_and_utc_needs_no_database() {
    let text = "a = \"UTC\"\nb = \"Mars/Olympus\"\nc = \"09:30\"\nd = \"9am\"\n";
    let (values, problems) =
        check(text, |c| (c.time_zone("a"), c.time_zone("b"), c.time_of_day("c"), c.time_of_day("d")));
    assert_eq!(values.0, Some(TimeZone::UTC));
    assert_eq!(values.1, None);
    assert_eq!(values.2, Some(Time::constant(9, 30, 0, 0)));
    assert_eq!(values.3, None);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].starts_with("b: unknown time zone \"Mars/Olympus\""), "{problems:#?}");
    assert_eq!(problems[1], "d: \"9am\" is not a time of day like \"09:00\"");
}

#[test]
fn every_bad_item_of_a_list_is_reported_at_its_index_and_the_good_ones_are_kept() {
    let (values, problems) =
        check("a = [\"x\", \"\", 3, \"y\\nz\", \"w\"]\nb = \"x\"\n", |c| (c.strings("a"), c.strings("b")));
    assert_eq!(values, (Some(vec!["x".to_string(), "w".to_string()]), None));
    assert_eq!(
        problems,
        [
            "a[1]: must not be empty",
            "a[2]: expected a string, found integer",
            "a[3]: must be one line",
            "b: expected an array of strings, found string",
        ]
    );
}

#[test]
fn parsed_lists_report_the_parser_message_per_item_and_may_accept_a_single_string() {
    let number = |s: &str| s.parse::<u8>().map_err(|_| format!("{s:?} is not a number"));
    let text = "a = [\"1\", \"x\", \"3\"]\nb = \"4\"\nc = \"5\"\nd = 6\ne = \"y\"\n";
    let (values, problems) = check(text, |c| {
        (
            c.parsed_strings("a", number),
            c.parsed_strings_or_one("b", number),
            c.parsed_strings("c", number),
            c.parsed_strings_or_one("d", number),
            c.parsed_strings_or_one("e", number),
        )
    });
    assert_eq!(values, (Some(vec![1, 3]), Some(vec![4]), None, None, None));
    assert_eq!(
        problems,
        [
            "a[1]: \"x\" is not a number",
            "c: expected an array of strings, found string",
            "d: expected a string or an array of strings, found integer",
            "e: \"y\" is not a number",
        ]
    );
}

#[test]
fn an_empty_list_is_reported_when_it_must_name_at_least_one_item() {
    let (_, problems) = check("a = []\nb = [\"x\"]\nc = [3]\n", |c| {
        for key in ["a", "b", "c", "d"] {
            c.at_least_one(key, "user");
        }
    });
    assert_eq!(problems, ["a: must name at least one user"]);
}

#[test]
fn unknown_keys_are_named_with_the_keys_that_are_allowed() {
    let (_, problems) = check("name = \"x\"\ncolour = \"red\"\n", |c| c.known_keys(&["name", "kind"]));
    assert_eq!(problems, ["colour: unknown key (expected one of: name, kind)"]);
}

#[test]
fn a_required_key_that_is_missing_says_why() {
    let (present, problems) =
        check("a = 1\n", |c| [c.required("a", ""), c.required("b", ""), c.required("c", "for a one-off window")]);
    assert_eq!(present, [true, false, false]);
    assert_eq!(problems, ["b: is required", "c: is required for a one-off window"]);
}

#[test]
fn nested_tables_and_arrays_of_tables_carry_the_full_key_path() {
    let text = "[notify]\n[[notify.channels]]\nname = \"ops\"\n[[notify.channels]]\nname = \"\"\n[notify.channels.extra]\nurl = 5\n";
    let (names, problems) = check(text, |root| {
        let notify = root.table("notify").expect("a table");
        assert_eq!(notify.path(), "notify");
        notify
            .tables("channels")
            .iter()
            .map(|ch| {
                if let Some(extra) = ch.table("extra") {
                    extra.line("url");
                }
                ch.line("name")
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(names, [Some("ops".to_string()), None]);
    assert_eq!(
        problems,
        [
            "notify.channels[1].extra.url: expected a string, found integer",
            "notify.channels[1].name: must not be empty"
        ]
    );
}

#[test]
fn a_walk_below_the_root_prefixes_every_path() {
    let (_, problems) = check_at("[[users]]\nid = \"\"\n", "oncall", |c| {
        for u in c.tables("users") {
            u.line("id");
        }
    });
    assert_eq!(problems, ["oncall.users[0].id: must not be empty"]);
}

#[test]
fn wrong_shapes_for_tables_name_the_header_to_write() {
    let text = "a = 1\nroutes = \"x\"\n[[outer]]\ninner = 3\n[[list]]\n";
    let (_, problems) = check(text, |c| {
        c.table("a");
        c.tables("routes");
        for o in c.tables("outer") {
            o.tables("inner");
        }
        c.tables("list").len()
    });
    assert_eq!(
        problems,
        [
            "a: expected a table, found integer",
            "routes: expected an array of tables ([[routes]]), found string",
            "outer[0].inner: expected an array of tables ([[outer.inner]]), found integer",
        ]
    );
    let (_, problems) = check("list = [{ a = 1 }, 2]\n", |c| c.tables("list").len());
    assert_eq!(problems, ["list[1]: expected a table, found integer"]);
}

#[test]
fn every_problem_is_collected_not_just_the_first_and_reports_can_name_any_path() {
    let text = "a = \"\"\nb = \"x\"\nc = 0\nd = [1]\nextra = true\n";
    let (_, problems) = check(text, |c| {
        c.known_keys(&["a", "b", "c", "d"]);
        c.line("a");
        c.integer("b", 0..=1);
        c.integer("c", 1..=2);
        c.strings("d");
        c.report_here("the root as a whole");
        c.problems().report("elsewhere[3]", "a rule across tables");
    });
    assert_eq!(
        problems,
        [
            "extra: unknown key (expected one of: a, b, c, d)",
            "a: must not be empty",
            "b: expected an integer, found string",
            "c: must be between 1 and 2, not 0",
            "d[0]: expected a string, found integer",
            ": the root as a whole",
            "elsewhere[3]: a rule across tables",
        ]
    );
}

#[test]
fn keys_are_listed_and_problems_go_to_the_callers_list() {
    let (mut keys, _) = check("b = 1\na = 2\n", |c| c.keys().map(String::from).collect::<Vec<_>>());
    keys.sort_unstable();
    assert_eq!(keys, ["a", "b"]);
    let table: Table = "a = \"\"".parse().expect("valid");
    let mut problems = vec![ConfigProblem { path: "earlier".into(), message: "kept".into() }];
    walk(&table, "", &mut problems, |c| c.line("a"));
    assert_eq!(problems.len(), 2);
    assert_eq!(problems[0].path, "earlier");
}
