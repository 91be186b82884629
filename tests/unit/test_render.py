"""Pinpoint message templates: the documented helpers and variables, escaping, defaults and
substitutions, whitespace, compile errors with positions, and the sandbox's limits.

Helper examples are the ones in the Pinpoint User Guide, "Using message template helpers"; where
the guide's example output is wrong (see ``clarion.templates.handlebars.helpers``) the real result
is used.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.templates.handlebars import (
    MAX_OUTPUT,
    RenderError,
    TemplateError,
    compile_template,
    parse_defaults,
    recipient_values,
)

NOW = datetime(2020, 9, 19, 18, 30, tzinfo=UTC)

ENDPOINT: dict[str, Any] = {
    "Id": "endpoint-1",
    "Address": "jane@example.com",
    "ChannelType": "EMAIL",
    "Demographic": {"Platform": "ios", "Timezone": "America/Los_Angeles"},
    "Location": {"City": "Los Angeles", "Country": "US"},
    "Metrics": {"points": 120.0, "ratio": 0.25, "huge": 1e40},
    "Attributes": {
        "Interests": ["art", "music"],
        "description": ["my first post"],
        "favorite_colors": ["blue", "red", "green"],
        "IsUserSubscribed": ["true"],
    },
    "User": {
        "UserId": "user-1",
        "UserAttributes": {
            "FirstName": ["Jane"],
            "LastName": ["Doe"],
            "Last Name": ["Roe"],
            "FavoriteColors": ["red", "blue", "yellow"],
            "UserAge": ["22"],
            "interests": ["<h1>Art</h1>"],
        },
    },
}


def render(source: str, values: dict[str, Any] | None = None, *, escape: bool = False) -> str:
    data = ENDPOINT if values is None else values
    return compile_template(source).render(data, escape=escape, now=NOW)


def person(**attributes: Any) -> dict[str, Any]:
    """An endpoint whose user has the given attributes, each stored as Pinpoint lists them."""
    listed = {
        name: value if isinstance(value, list) else [value] for name, value in attributes.items()
    }
    return {**ENDPOINT, "User": {"UserId": "user-1", "UserAttributes": listed}}


def located(city: str, country: str = "US") -> dict[str, Any]:
    return {**ENDPOINT, "Location": {"City": city, "Country": country}}


# -- variables ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{Id}} {{Address}} {{ChannelType}}", "endpoint-1 jane@example.com EMAIL"),
        ("{{Demographic.Platform}} {{Location.City}}", "ios Los Angeles"),
        ("{{User.UserId}} {{User.UserAttributes.FirstName}}", "user-1 Jane"),
        ("{{User.UserAttributes.FavoriteColors.[1]}}", "blue"),
        ("{{User.UserAttributes.[Last Name].[0]}}", "Roe"),
        ("{{User/UserAttributes/FirstName}}", "Jane"),
        ("{{Metrics.points}} {{Metrics.ratio}}", "120 0.25"),
        ("{{Attributes.Interests}}", "art,music"),
        ("{{Attributes.Missing}}|{{Nothing.at.all}}|{{User.UserAttributes.FirstName.[5]}}", "||"),
    ],
)
def test_variables_read_endpoint_fields_by_path(source: str, expected: str) -> None:
    assert render(source) == expected


def test_missing_value_omits_the_variable_text() -> None:
    template = (
        "Hi {{User.UserAttributes.FirstName}}, your new {{User.UserAttributes.Activity}} record!"
    )
    assert render(template, person(FirstName="Mary")) == "Hi Mary, your new  record!"


def test_numbers_booleans_and_maps_render_as_text() -> None:
    values = {"int": 7, "float": 2.5, "whole": 3.0, "yes": True, "map": {"a": 1}, "none": None}
    assert render("{{int}} {{float}} {{whole}} {{yes}} [{{map}}] [{{none}}]", values) == (
        "7 2.5 3 true [] []"
    )


def test_literals_render_themselves() -> None:
    assert render("{{'text'}} {{\"more\"}} {{42}} {{-1.50}} {{true}} [{{null}}]") == (
        "text more 42 -1.5 true []"
    )


def test_this_dot_and_brackets_name_the_current_context() -> None:
    assert render("{{this.name}} {{./name}} {{[name]}}", {"name": "Bob"}) == "Bob Bob Bob"


# -- escaping -----------------------------------------------------------------------------------

DANGEROUS = {"x": "<a href=\"x\" title='y'>&`</a>"}


def test_double_braces_escape_html_for_email_html_parts() -> None:
    assert render("{{x}}", DANGEROUS, escape=True) == (
        "&lt;a href&#x3D;&quot;x&quot; title&#x3D;&#x27;y&#x27;&gt;&amp;&#x60;&lt;/a&gt;"
    )


def test_escaping_is_on_unless_the_caller_turns_it_off() -> None:
    template = compile_template("{{x}}")
    assert template.render(DANGEROUS) == render("{{x}}", DANGEROUS, escape=True)
    assert template.render(DANGEROUS, escape=False) == DANGEROUS["x"]


def test_triple_braces_and_ampersand_never_escape() -> None:
    raw = DANGEROUS["x"]
    assert render("{{{x}}}|{{& x}}", DANGEROUS, escape=True) == f"{raw}|{raw}"


def test_helper_results_are_escaped_like_variables() -> None:
    assert render('{{upper "<b>"}}', escape=True) == "&lt;B&gt;"
    assert render('{{{upper "<b>"}}}', escape=True) == "<B>"


def test_template_text_itself_is_never_escaped() -> None:
    assert render("<p class='a'>{{Id}}</p>", escape=True) == "<p class='a'>endpoint-1</p>"


def test_backslash_keeps_braces_literal() -> None:
    assert render(r"\{{Id}} and \\{{Id}}") == r"{{Id}} and \endpoint-1"


@given(st.text(alphabet=st.sampled_from("{}\\~ \n\r\tab<&é")).filter(lambda text: "{{" not in text))
def test_text_without_tags_renders_unchanged(text: str) -> None:
    assert render(text, escape=True) == text
    assert render(text) == text


@given(st.text().filter(lambda text: "{{" not in text))
def test_any_text_without_tags_renders_unchanged(text: str) -> None:
    assert render(text, escape=True) == text


@given(st.text())
def test_escaped_output_reads_back_as_the_value(value: str) -> None:
    escaped = render("{{v}}", {"v": value}, escape=True)
    assert html.unescape(escaped) == value
    assert not set("<>\"'`") & set(escaped)
    assert render("{{v}}", {"v": value}) == value


# -- defaults and substitutions -----------------------------------------------------------------

RUNNER = (
    "Hi {{User.UserAttributes.FirstName}}, congratulations on your new "
    "{{User.UserAttributes.Activity}} record!"
)
RUNNING = '{"User.UserAttributes.Activity": "running"}'


def test_default_fills_an_attribute_the_recipient_lacks() -> None:
    values = recipient_values(person(FirstName="Jane"), defaults=RUNNING)
    assert render(RUNNER, values) == "Hi Jane, congratulations on your new running record!"


def test_the_endpoint_value_beats_the_default() -> None:
    values = recipient_values(person(FirstName="Sofia", Activity="half marathon"), defaults=RUNNING)
    assert render(RUNNER, values) == "Hi Sofia, congratulations on your new half marathon record!"


def test_an_empty_value_counts_as_missing() -> None:
    values = recipient_values(person(FirstName="Jane", Activity=[]), defaults=RUNNING)
    assert render("{{User.UserAttributes.Activity}}", values) == "running"


def test_substitutions_beat_the_endpoint_and_the_defaults() -> None:
    values = recipient_values(
        person(FirstName="Jane", Activity="5K"),
        defaults=RUNNING,
        substitutions={"User.UserAttributes.Activity": ["marathon"], "User.UserId": ["other"]},
    )
    assert render("{{User.UserAttributes.Activity}} {{User.UserId}}", values) == "marathon other"


def test_default_for_an_attribute_is_a_list_like_the_endpoints_own() -> None:
    values = recipient_values({}, defaults='{"User.UserAttributes.FirstName": "there"}')
    assert values["User"]["UserAttributes"]["FirstName"] == ["there"]
    assert render("Hi {{User.UserAttributes.FirstName.[0]}}", values) == "Hi there"


def test_defaults_may_be_nested_the_way_the_console_writes_them() -> None:
    defaults = '{"Attributes": {"Purchase": "Test"}, "Location": {"City": "Paris"}}'
    values = recipient_values({"Location": {"Country": "FR"}}, defaults=defaults)
    assert render("{{Attributes.Purchase}} {{Location.City}} {{Location.Country}}", values) == (
        "Test Paris FR"
    )


def test_substitution_of_a_plain_variable_is_a_single_value_or_a_list() -> None:
    values = recipient_values({}, substitutions={"FirstName": ["Bob"], "Codes": ["A1", "B2"]})
    assert values["FirstName"] == "Bob"
    assert render("{{FirstName}}: {{Codes}} / {{Codes.[1]}}", values) == "Bob: A1,B2 / B2"


def test_bracketed_substitution_keys_name_attributes_with_spaces() -> None:
    values = recipient_values(ENDPOINT, substitutions={"User.UserAttributes.[Last Name]": ["Poe"]})
    assert render("{{User.UserAttributes.[Last Name].[0]}}", values) == "Poe"


def test_building_values_leaves_the_endpoint_untouched() -> None:
    endpoint = person(FirstName="Jane")
    before = repr(endpoint)
    recipient_values(endpoint, defaults=RUNNING, substitutions={"User.UserAttributes.X": ["1"]})
    assert repr(endpoint) == before


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"string"'])
def test_malformed_default_substitutions_are_refused(text: str) -> None:
    with pytest.raises(TemplateError, match="DefaultSubstitutions"):
        parse_defaults(text)


# -- the helpers the guide documents ------------------------------------------------------------

COLORS = (
    "{{#each User.UserAttributes.FavoriteColors}}<li>{{this}}</li>"
    "{{else}}You have no favorite colors.{{/each}}"
)
GREETING = (
    "{{#if User.UserAttributes.FirstName.[0]}}Hello {{User.UserAttributes.FirstName.[0]}},"
    "{{else}}Hello,{{/if}}"
)
LOS_ANGELES = (
    '{{#and (eq Location.City "Los Angeles") (eq Location.Country "US")}}'
    "You live in Los Angeles and the US.{{else}}You don't live in Los Angeles and the US.{{/and}}"
)
WEST_COAST = (
    '{{#or (eq Location.City "Los Angeles") (eq Location.City "Seattle")}}West Coast'
    "{{else}}Elsewhere{{/or}}"
)
RED = '{{#eq User.UserAttributes.FavoriteColors.[0] "red"}}Red.{{else}}Not red.{{/eq}}'
NOT_RED = '{{#neq User.UserAttributes.FavoriteColors.[0] "red"}}Not red.{{else}}Red.{{/neq}}'
NOT_EQ = '{{#not (eq User.UserAttributes.FavoriteColors.[0] "red")}}Not red.{{else}}Red.{{/not}}'


def age(source: str, years: str) -> str:
    return render(source, person(UserAge=years, Age=years))


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        (COLORS, None, "<li>red</li><li>blue</li><li>yellow</li>"),
        (COLORS, person(FavoriteColors=[]), "You have no favorite colors."),
        (GREETING, None, "Hello Jane,"),
        (GREETING, person(), "Hello,"),
        (LOS_ANGELES, None, "You live in Los Angeles and the US."),
        (LOS_ANGELES, located("Los Angeles", "MX"), "You don't live in Los Angeles and the US."),
        (WEST_COAST, located("Seattle"), "West Coast"),
        (WEST_COAST, located("Boston"), "Elsewhere"),
        (RED, None, "Red."),
        (RED, person(FavoriteColors=["blue"]), "Not red."),
        (NOT_RED, person(FavoriteColors=["blue"]), "Not red."),
        (NOT_RED, None, "Red."),
        (NOT_EQ, person(FavoriteColors=["blue"]), "Not red."),
        (NOT_EQ, None, "Red."),
    ],
)
def test_block_helpers_from_the_guide(
    source: str, values: dict[str, Any] | None, expected: str
) -> None:
    assert render(source, values) == expected


@pytest.mark.parametrize(
    ("source", "years", "expected"),
    [
        ('{{#gt User.UserAttributes.UserAge.[0] "17"}}old{{else}}young{{/gt}}', "18", "old"),
        ('{{#gt User.UserAttributes.UserAge.[0] "17"}}old{{else}}young{{/gt}}', "17", "young"),
        ('{{#gt User.UserAttributes.UserAge.[0] "17"}}old{{else}}young{{/gt}}', "9", "young"),
        ('{{#gte User.UserAttributes.UserAge.[0] "18"}}old{{else}}young{{/gte}}', "18", "old"),
        ('{{#gte User.UserAttributes.UserAge.[0] "18"}}old{{else}}young{{/gte}}', "17", "young"),
        ('{{#lt User.UserAttributes.UserAge.[0] "18"}}young{{else}}old{{/lt}}', "17", "young"),
        ('{{#lt User.UserAttributes.UserAge.[0] "18"}}young{{else}}old{{/lt}}', "100", "old"),
        ('{{#lte User.UserAttributes.Age.[0] "17"}}young{{else}}old{{/lte}}', "17", "young"),
        ('{{#lte User.UserAttributes.Age.[0] "17"}}young{{else}}old{{/lte}}', "18", "old"),
    ],
)
def test_comparisons_are_numeric_when_both_sides_are_numbers(
    source: str, years: str, expected: str
) -> None:
    assert age(source, years) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{{not (eq User.UserAttributes.FavoriteColors.[0] "red")}}', "false"),
        ('{{eq Location.City "Los Angeles" yes="y" no="n"}}', "y"),
        ('{{neq Location.City "Los Angeles" yes="y" no="n"}}', "n"),
        ("{{and Location.City Location.Country yes='both'}}", "both"),
        ("{{or Location.Missing Location.Gone no='neither'}}", "neither"),
        ("{{gt 3 2}} {{gte 2 2}} {{lt 3 2}} {{lte 2 3}}", "true true false true"),
        ("{{if Location.City yes='known' no='unknown'}}", "known"),
        ("{{unless Location.City yes='unknown' no='known'}}", "known"),
        ("{{eq 3 '3'}} {{eq '3' '3.0'}} {{eq 'a' 'b'}}", "true false false"),
        ('{{eq User.UserAttributes.FirstName "Jane"}}', "true"),
        ("{{gt 'b' 'a'}} {{gt 'a' 2}}", "true false"),
    ],
)
def test_conditional_helpers_inline(source: str, expected: str) -> None:
    assert render(source) == expected


def test_else_if_chains() -> None:
    template = "{{#if a}}A{{else if b}}B{{else eq c 'x'}}C{{else}}D{{/if}}"
    assert render(template, {"a": 1}) == "A"
    assert render(template, {"b": 1}) == "B"
    assert render(template, {"c": "x"}) == "C"
    assert render(template, {}) == "D"


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        (
            "{{abbreviate User.UserAttributes.LastName.[0] 6}}",
            person(LastName="Alejandro"),
            "Ale...",
        ),
        (
            "{{abbreviate User.UserAttributes.LastName.[0] 9}}",
            person(LastName="Alejandro"),
            "Alejandro",
        ),
        ("{{capitalize Attributes.description.[0]}}", None, "My First Post"),
        ("{{capitalize 'mY fIRST  post'}}", None, "MY FIRST  Post"),
        ("{{capitalize 'mY fIRST post' fully=true}}", None, "My First Post"),
        ("{{capitalizeFirst Attributes.description.[0]}}", None, "My first post"),
        ("[{{center Location.City size=19}}]", None, "[    Los Angeles    ]"),
        ("[{{center Location.City size=14 pad='*'}}]", None, "[*Los Angeles**]"),
        ("[{{center Location.City size=5}}]", None, "[Los Angeles]"),
        ("[{{center 'ab' size=6 pad=''}}]", None, "[  ab  ]"),
        ('{{cut Location.City "e"}}', None, "Los Angls"),
        ("{{cut Location.City}}", None, "LosAngeles"),
        ("{{inflect 3 apple apples includeCount=false}}", None, "apples"),
        ("{{inflect 3 apple apples includeCount=true}}", None, "3 apples"),
        ("{{inflect 1 apple apples includeCount=true}}", None, "1 apple"),
        ('{{join Attributes.favorite_colors ", "}}', None, "blue, red, green"),
        ('{{join Attributes.favorite_colors "/" prefix="(" suffix=")"}}', None, "(blue/red/green)"),
        ('{{join "a" Attributes.Interests "-"}}', None, "a-art-music"),
        ("[{{ljust Location.City size=15}}]", None, "[Los Angeles    ]"),
        ("[{{ljust Location.City 15 pad='.'}}]", None, "[Los Angeles....]"),
        ("{{lower User.UserAttributes.LastName.[0]}}", person(LastName="Santos"), "santos"),
        (
            "Congratulations on your {{ordinalize User.UserAttributes.UserAge.[0]}} birthday!",
            None,
            "Congratulations on your 22nd birthday!",
        ),
        ('{{replace Location.City " " "_"}}', None, "Los_Angeles"),
        ("[{{rjust Location.City size=15}}]", None, "[    Los Angeles]"),
        ("{{slugify Location.City}}", None, "los-angeles"),
        ("{{slugify '  Hello, World -- Again! '}}", None, "hello-world-again"),
        ("{{stripTags User.UserAttributes.interests.[0]}}", None, "Art"),
        ("{{substring Location.City 4 9}}", None, "Angel"),
        ("{{substring Location.City 4}}|{{substring Location.City 20}}", None, "Angeles|"),
        ("{{upper User.UserAttributes.LastName.[0]}}", person(LastName="Roe"), "ROE"),
        ("{{yesno Attributes.IsUserSubscribed}}", None, "yes"),
        ("{{yesno false}} {{yesno Attributes.Missing}}", None, "no maybe"),
        ("{{yesno true yes='Yes!'}} {{yesno null maybe='?'}}", None, "Yes! ?"),
        ('{{capitalizeFirst (lower "JANE")}}', None, "Jane"),
    ],
)
def test_string_helpers(source: str, values: dict[str, Any] | None, expected: str) -> None:
    assert render(source, values) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        *[(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th")],
        *[(13, "13th"), (21, "21st"), (101, "101st"), (111, "111th"), (0, "0th")],
    ],
)
def test_ordinalize(number: int, expected: str) -> None:
    assert render("{{ordinalize n}}", {"n": number}) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{add 5 2.3}}", "7.3"),
        ("{{ceiling 5.23}}", "6"),
        ('{{decode64 "SGVsbG8gd29ybGQ="}}', "Hello world"),
        ("{{divide 5 2.3}}", "2.17391304"),
        ("{{divide 10 4}}", "2.5"),
        ('{{encode64 "Hello world"}}', "SGVsbG8gd29ybGQ="),
        ("{{floor 5.23}}", "5"),
        ('{{md5 "Hello world"}}', "3e25960a79dbc69b674cd4ec67a72c62"),
        ("{{modulo 7 2}}", "1"),
        ("{{multiply 5 2.3}}", "11.5"),
        (
            "You spent an average of {{round 19.21}} minutes on our website each day.",
            "You spent an average of 19 minutes on our website each day.",
        ),
        ("{{round 2.5}}", "3"),
        (
            '{{sha256 "Hello World"}}',
            "a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e",
        ),
        (
            '{{sha512 "Hello World"}}',
            "2c74fd17edafd80e8447b0d46741ee243b7eb74dd2149a0ab1b9246fb30382f2"
            "7e853d8585719e0e67cbda0daa8f51671064615d645ae27acb15bfb1447f459b",
        ),
        ("{{subtract 5 2.3}}", "2.7"),
        ("{{add Metrics.points User.UserAttributes.UserAge}}", "142"),
        ("{{add (multiply 2 3) 1}}", "7"),
        ("[{{add Metrics.missing 1}}] [{{add 1 Metrics.missing}}]", "[] []"),
    ],
)
def test_math_and_encoding_helpers(source: str, expected: str) -> None:
    assert render(source) == expected


def test_uuid_is_random_for_every_message() -> None:
    template = compile_template("{{uuid}}")
    first, second = template.render({}), template.render({})
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first
    )
    assert first != second


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "We can meet any time on {{dateFormat User.UserAttributes.StartDate.[0] "
            'inputFormat="MM/dd/yyyy" outputFormat="full" tz=America/Los_Angeles}}.',
            "We can meet any time on Saturday, September 19, 2020.",
        ),
        (
            '{{dateFormat "2020-09-19T03:00:00Z" outputFormat="long" tz=America/Los_Angeles}}',
            "September 18, 2020",
        ),
        ('{{dateFormat "2020-09-19" "short"}}', "9/19/20"),
        ('{{dateFormat "2020-09-19"}}', "Sep 19, 2020"),
        (
            '{{dateFormat "1600560000000" outputFormat="yyyy-MM-dd\'T\'HH:mm:ss.SSSXXX"}}',
            "2020-09-20T00:00:00.000Z",
        ),
        (
            '{{dateFormat "2020-09-19T15:04:05+02:00" '
            'outputFormat="EEE, d MMM yy h:mm a Z" tz=UTC}}',
            "Sat, 19 Sep 20 1:04 PM +0000",
        ),
        (
            '{{dateFormat "19 Sep 2020 3:04 PM" '
            'inputFormat="d MMM yyyy h:mm a" outputFormat="HH:mm"}}',
            "15:04",
        ),
        ('{{dateFormat "200919" inputFormat="yyMMdd" outputFormat="yyyy-MM-dd"}}', "2020-09-19"),
        (
            '{{dateFormat "2020-06-01T12:00:00Z" outputFormat="z X" tz=Demographic.Timezone}}',
            "PDT -07",
        ),
        (
            '{{dateFormat "2020-09-19" outputFormat="\'Day\' D, \'\'yy" locale="en_US"}}',
            "Day 263, '20",
        ),
        ("[{{dateFormat User.UserAttributes.Missing}}]", "[]"),
        ('{{now "medium" tz=America/Los_Angeles}}', "Sep 19, 2020"),
        ('{{now format="yyyy-MM-dd HH:mm z" tz=America/Los_Angeles}}', "2020-09-19 11:30 PDT"),
        ('{{now "full"}}', "Saturday, September 19, 2020"),
        ("{{now}}", "Sep 19, 2020"),
    ],
)
def test_date_helpers(source: str, expected: str) -> None:
    assert render(source, person(StartDate="09/19/2020")) == expected


def test_now_reads_the_clock_when_no_moment_is_given() -> None:
    year = datetime.now(UTC).year
    assert compile_template('{{now "yyyy"}}').render({}) in (str(year), str(year + 1))


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ('{{dateFormat "yesterday"}}', "is not an ISO 8601 date"),
        ('{{dateFormat "13/45/2020" inputFormat="MM/dd/yyyy"}}', "is not a valid date"),
        ('{{dateFormat "2020" inputFormat="MM/dd/yyyy"}}', "does not match the date pattern"),
        ("{{dateFormat Location.City}}", "is not an ISO 8601 date"),
        ("{{now tz=Location.City}}", "is not a time zone ID"),
        ("{{now tz=Mars/Olympus_Mons}}", "is not a time zone ID"),
    ],
)
def test_bad_dates_fail_only_that_message(source: str, reason: str) -> None:
    with pytest.raises(RenderError, match=reason) as failure:
        render(source)
    assert (failure.value.line, failure.value.column) == (1, 3)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ('{{now "yyyy QQ"}}', "'QQ' is not supported"),
        ('{{now "zzzz"}}', "'zzzz' is not supported"),
        ('{{now "\'open"}}', "unclosed quote"),
        ("{{now tz='../../etc/passwd'}}", "is not a time zone ID"),
        ("{{now locale='fr_FR'}}", "locale 'fr_FR' is not supported"),
        ("{{dateFormat Id outputFormat='yyyy-ww'}}", "'ww' is not supported"),
    ],
)
def test_date_helpers_check_literal_formats_when_compiled(source: str, reason: str) -> None:
    with pytest.raises(TemplateError, match=reason):
        compile_template(source)


def test_inline_partial_from_the_guide() -> None:
    template = (
        '{{#* inline "fullName"}}\n'
        "{{User.UserAttributes.FirstName.[0]}}"
        "{{#if User.UserAttributes.LastName.[0]}} {{User.UserAttributes.LastName.[0]}}{{/if}}\n"
        "{{/inline}}\n"
        "Hello {{> fullName}}"
    )
    assert render(template) == "Hello Jane Doe\n"
    assert render(template, person(FirstName="Jane")) == "Hello Jane\n"


def test_partials_may_take_a_context_and_call_each_other() -> None:
    template = (
        '{{#* inline "city"}}{{City}}{{/inline}}'
        '{{#* inline "place"}}{{> city}}, {{Country}}{{/inline}}'
        "{{> place Location}} / {{> 'city' Location}}"
    )
    assert render(template) == "Los Angeles, US / Los Angeles"


# -- built-in blocks, data variables and scopes -------------------------------------------------


def test_each_exposes_index_key_first_and_last() -> None:
    template = (
        "{{#each list}}{{@index}}:{{this}}{{#if @first}}<{{/if}}{{#if @last}}>{{/if}} {{/each}}"
    )
    assert render(template, {"list": ["a", "b", "c"]}) == "0:a< 1:b 2:c> "
    assert render("{{#each map}}{{@key}}={{this}};{{/each}}", {"map": {"x": 1, "y": 2}}) == (
        "x=1;y=2;"
    )


def test_each_over_a_single_value_visits_it_once() -> None:
    assert render("{{#each Location.City}}[{{this}}]{{/each}}") == "[Los Angeles]"


def test_names_not_in_the_loop_item_come_from_outer_contexts() -> None:
    template = "{{#each list}}{{this}}:{{User.UserId}}:{{../Id}}:{{@root.Id}} {{/each}}"
    assert render(template, {**ENDPOINT, "list": ["a", "b"]}) == (
        "a:user-1:endpoint-1:endpoint-1 b:user-1:endpoint-1:endpoint-1 "
    )


def test_nested_blocks() -> None:
    template = (
        "{{#each groups}}{{name}}:{{#each members}}{{#if @first}}{{else}},{{/if}}"
        "{{#with this}}{{upper name}}{{/with}}{{/each}};{{/each}}"
    )
    values = {"groups": [{"name": "a", "members": [{"name": "x"}, {"name": "y"}]}, {"name": "b"}]}
    assert render(template, values) == "a:X,Y;b:;"


def test_with_unless_lookup_and_log() -> None:
    assert render("{{#with Location}}{{City}} ({{Id}}){{/with}}") == "Los Angeles (endpoint-1)"
    assert render("{{#with Nowhere}}x{{else}}none{{/with}}") == "none"
    assert render(
        "{{#unless Metrics.zero}}zero{{else}}some{{/unless}}", {"Metrics": {"zero": 0}}
    ) == ("zero")
    assert render(
        "{{lookup User.UserAttributes 'Last Name'}} {{lookup Attributes.Interests 1}}"
    ) == ("Roe music")
    assert render("a{{log 'debug' level='info'}}b") == "ab"


def test_comments_render_nothing() -> None:
    assert render("a{{! short }}b{{!-- has }} inside --}}c") == "abc"


# -- whitespace ---------------------------------------------------------------------------------


def test_block_tags_alone_on_a_line_take_the_line_with_them() -> None:
    template = "<ul>\n  {{#each list}}\n  <li>{{this}}</li>\n  {{/each}}\n</ul>\n"
    assert render(template, {"list": ["a", "b"]}) == "<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>\n"


def test_else_and_comment_lines_are_standalone_too() -> None:
    template = "{{#if x}}\r\n  yes\r\n{{else}}\r\n  no\r\n{{/if}}\r\n{{! note }}\nend"
    assert render(template, {"x": True}) == "  yes\r\nend"
    assert render(template, {}) == "  no\r\nend"


def test_tags_sharing_a_line_with_text_keep_the_whitespace() -> None:
    assert render("a {{#if x}} b {{/if}} c", {"x": 1}) == "a  b  c"
    assert render("{{#if x}}{{/if}}\n", {"x": 1}) == "\n"


def test_tilde_strips_whitespace_on_its_side() -> None:
    assert render("a \n {{~ name ~}} \n b", {"name": "X"}) == "aXb"
    assert render("{{#each list~}}\n  {{this}}\n{{~/each}}", {"list": [1, 2]}) == "12"


# -- compile errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "line", "column", "reason"),
    [
        ("Hi\n  {{#if x}}\n", 2, 3, "{{#if}} is never closed with {{/if}}"),
        ("{{#each x}}{{/if}}", 1, 12, "{{/if}} closes {{#each}} opened at line 1, column 1"),
        ("{{/if}}", 1, 1, "{{/if}} closes nothing"),
        ("{{else}}", 1, 1, "{{else}} outside a block"),
        ("{{#if a}}{{else}}{{else}}{{/if}}", 1, 18, "already has an {{else}}"),
        ("text {{name", 1, 6, "never closed with }}"),
        ("{{{name}}", 1, 1, "never closed with }}}"),
        ("{{!-- open", 1, 1, "never closed with --}}"),
        ("{{name 'open}}", 1, 8, "string is never closed"),
        ("one\ntwo {{foo bar}}", 2, 7, "unknown helper 'foo'"),
        ("{{#foo}}{{/foo}}", 1, 4, "unknown block helper 'foo'"),
        ("{{#upper x}}{{/upper}}", 1, 4, "upper is not a block helper"),
        ("{{each x}}", 1, 3, "each is a block helper"),
        ("{{upper}}", 1, 3, "upper takes 1 argument, got 0"),
        ("{{substring x}}", 1, 3, "substring takes 2 to 3 arguments, got 1"),
        ("{{and x}}", 1, 3, "and takes at least 2 arguments, got 1"),
        ("{{center x width=3}}", 1, 3, "center has no option 'width' (options: pad, size)"),
        ("{{center x}}", 1, 3, "center needs a size"),
        ("{{#if x yes='y'}}{{/if}}", 1, 4, "if takes no options when used as a block"),
        ("{{#each x y}}{{/each}}", 1, 4, "each takes one value and no options"),
        ("{{upper (each x)}}", 1, 10, "each cannot be a sub-expression"),
        ("{{upper (lower x}}", 1, 9, "sub-expression is never closed"),
        ("{{upper (nope x)}}", 1, 10, "unknown helper 'nope'"),
        ("{{x.y. }}", 1, 6, "unexpected '.'"),
        ("{{x y=1 z}}", 1, 9, "arguments must come before key=value options"),
        ("{{add 1 " + "9" * 50 + "}}", 1, 9, "numbers are at most 40 characters long"),
        ("{{Location.City x}}", 1, 3, "only a helper name can take arguments"),
        ("{{abbreviate x 3}}", 1, 3, "width must be at least 4"),
        ("{{substring x -1}}", 1, 3, "must be a whole number of 0 or more"),
        ("{{#each x as |item|}}{{/each}}", 1, 14, "block parameters (as |x|) are not supported"),
        ("{{^x}}{{/x}}", 1, 1, "inverse sections {{^name}} are not supported"),
        ("{{#> layout}}{{/layout}}", 1, 1, "partial blocks"),
        ("{{#* decorator}}{{/decorator}}", 1, 1, "only the inline decorator"),
        ("{{> nowhere}}", 1, 1, "no inline partial named 'nowhere'"),
        ('{{#* inline "a"}}{{/inline}}{{#* inline "a"}}{{/inline}}', 1, 29, "defined twice"),
        ('{{#* inline "a"}}x{{> a}}{{/inline}}', 1, 19, "the partial 'a' includes itself"),
        (
            '{{#* inline "a"}}{{> b}}{{/inline}}{{#* inline "b"}}{{> a}}{{/inline}}',
            1,
            53,
            "includes",
        ),
    ],
)
def test_compile_errors_name_the_line_and_column(
    source: str, line: int, column: int, reason: str
) -> None:
    with pytest.raises(TemplateError) as failure:
        compile_template(source)
    assert (failure.value.line, failure.value.column) == (line, column)
    assert reason in failure.value.reason
    assert str(failure.value).startswith(f"line {line}, column {column}: ")


def test_render_errors_are_template_errors_for_one_recipient() -> None:
    assert issubclass(RenderError, TemplateError)
    assert issubclass(TemplateError, ValueError)
    template = compile_template("ok\n{{divide 1 Metrics.zero}}")
    with pytest.raises(RenderError, match="divide by zero") as failure:
        template.render({"Metrics": {"zero": "0"}})
    assert (failure.value.line, failure.value.column) == (2, 3)
    assert template.render({"Metrics": {"zero": "4"}}) == "ok\n0.25"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{{add Location.City 1}}", "must be a number"),
        ("{{add Metrics.huge 1}}", "must be a number"),
        ("{{ordinalize 2.5}}", "needs a whole number"),
        ('{{decode64 "not base64!"}}', "needs base64"),
        ("{{center 'x' size=Location.City}}", "must be a number"),
        ("{{inflect Location.City a b}}", "must be a number"),
    ],
)
def test_bad_data_for_a_helper_is_a_render_error(source: str, reason: str) -> None:
    with pytest.raises(RenderError, match=reason):
        render(source)


# -- sandbox ------------------------------------------------------------------------------------


def test_each_visits_at_most_fifteen_items() -> None:
    assert render("{{#each list}}{{this}},{{/each}}", {"list": list(range(20))}) == (
        "".join(f"{n}," for n in range(15))
    )


def test_nested_loops_stop_at_the_step_budget() -> None:
    nested = "{{#each l}}" * 5 + "x" + "{{/each}}" * 5
    with pytest.raises(RenderError, match="steps"):
        render(nested, {"l": list(range(15))})


def test_output_is_capped() -> None:
    template = compile_template("{{#each l}}{{center 'x' size=400000}}{{/each}}")
    assert len(template.render({"l": [1, 2]})) == 800_000
    with pytest.raises(RenderError, match=f"longer than {MAX_OUTPUT}"):
        template.render({"l": [1, 2, 3]})


def test_one_helper_cannot_build_a_huge_string() -> None:
    values = {"v": "a" * 1000}
    with pytest.raises(RenderError, match="replace would produce"):
        render("{{replace v 'a' (center 'b' size=2000)}}", values)
    with pytest.raises(RenderError, match="at most"):
        render("{{center 'x' size=n}}", {"n": 5_000_000})


def test_doubling_partials_stop_at_a_limit() -> None:
    chain = ['{{#* inline "p0"}}0123456789{{/inline}}']
    chain += [
        f'{{{{#* inline "p{n}"}}}}{{{{> p{n - 1}}}}}{{{{> p{n - 1}}}}}{{{{/inline}}}}'
        for n in range(1, 40)
    ]
    template = compile_template("".join(chain) + "{{> p39}}")
    with pytest.raises(RenderError):
        template.render({})


def test_nesting_is_limited() -> None:
    with pytest.raises(TemplateError, match="nest deeper than 64"):
        compile_template("{{#if a}}" * 65 + "{{/if}}" * 65)
    with pytest.raises(TemplateError, match="nest deeper than 64"):
        compile_template("{{upper " + "(lower " * 70 + "x" + ")" * 70 + "}}")
    partials = [
        f'{{{{#* inline "p{n}"}}}}{{{{#if x}}}}{{{{> p{n + 1}}}}}{{{{/if}}}}{{{{/inline}}}}'
        for n in range(40)
    ]
    partials.append('{{#* inline "p40"}}end{{/inline}}')
    with pytest.raises(TemplateError, match="nests deeper than 64"):
        compile_template("".join(partials) + "{{> p0}}")


class Secretive:
    secret = "attribute"

    def __str__(self) -> str:
        return "str() was called"


def test_lookups_only_index_mappings_and_lists() -> None:
    values = {"obj": Secretive(), "text": "abc", "n": 5}
    template = "[{{obj.secret}}][{{obj}}][{{text.upper}}][{{text.[0]}}][{{n.real}}][{{__class__}}]"
    assert render(template, values) == "[][][][][][]"
    assert render("[{{lookup obj 'secret'}}][{{lookup text 0}}]", values) == "[][]"
