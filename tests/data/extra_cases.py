import json
C = []
def case(name, template, data=None, partials=None, options=None, helpers=None, runtime=None):
    C.append({"name": name, "template": template, "data": {} if data is None else data,
              "partials": partials or {}, "options": options or {}, "helpers": helpers or []})
    if runtime:
        C[-1]["runtimeOptions"] = runtime
# numbers and values
case("values/float-formats", "{{a}} {{b}} {{c}} {{d}} {{e}} {{f}}", {"a": 1e21, "b": 1e-7, "c": 0.1, "d": 123456789012345680000, "e": -0.5, "f": 1.5e300})
case("values/array-output", "{{xs}}|{{{ys}}}", {"xs": [1, "a", None, True], "ys": ["<", ">"]})
case("values/object-output", "[{{o}}]", {"o": {"a": 1}})
case("values/zero-false-output", "{{z}}{{f}}{{e}}", {"z": 0, "f": False, "e": ""})
case("values/nested-array-length", "{{a.b.length}} {{s.length}}", {"a": {"b": [1, 2]}, "s": "abcd"})
case("values/literal-number-helper-name", "{{1}}|{{[2]}}", {"1": "one", "2": "two"})
case("values/literal-string-name", '{{"a b"}}', {"a b": "ok"})
# unicode
case("unicode/keys-and-values", "{{이름}} {{ключ}} {{emoji}}", {"이름": "값", "ключ": "значение", "emoji": "📧✓"})
case("unicode/escape-non-ascii", "{{x}}", {"x": "<é>\u00a0&"})
case("unicode/in-literal-path", "{{obj.[ü ß]}}", {"obj": {"ü ß": "umlaut"}})
# depths
case("depth/if-does-not-push", "{{#with a}}{{#if x}}{{../y}}{{/if}}{{/with}}", {"a": {"x": 1, "y": "inner"}, "y": "outer"})
case("depth/each-then-with", "{{#each xs}}{{#with this}}{{../n}}{{/with}}{{/each}}", {"xs": [{"n": 1}], "n": "top"})
case("depth/above-root", "[{{../../x}}]", {"x": 1})
case("depth/data-parent-key", "{{#each o}}{{#each this}}{{@../key}}.{{@key}} {{/each}}{{/each}}", {"o": {"a": {"x": 1}, "b": {"y": 2}}})
case("depth/root-in-partial", "{{#with a}}{{> p}}{{/with}}", {"a": {"v": 1}, "t": "T"}, {"p": "{{@root.t}}{{v}}"})
# deep nesting
case("nesting/deep-if-40", "{{#if a}}" * 40 + "x" + "{{/if}}" * 40, {"a": True})
case("nesting/deep-with-25", "{{#with a}}" * 25 + "{{../../v}}" + "{{/with}}" * 25, {"a": {"a": {"a": {"a": {}}}}, "v": "V"})
case("nesting/deep-each", "{{#each a}}{{#each this}}{{#each this}}{{this}}{{@../../index}}{{/each}}{{/each}}{{/each}}", {"a": [[[1, 2], [3]], [[4]]]})
case("nesting/deep-subexpr", "{{concat " + "(concat " * 20 + "'x'" + ")" * 20 + "}}", {}, None, None, ["concat"])
case("nesting/recursive-partial", "{{> node}}", {"n": "r", "kids": [{"n": "a", "kids": [{"n": "b", "kids": []}]}]}, {"node": "{{n}}({{#each kids}}{{> node}}{{/each}})"})
# else chains
case("else/each-else-if", "{{#each xs}}{{this}}{{else if y}}Y{{else}}N{{/each}}", {"xs": [], "y": True})
case("else/with-else-if", "{{#with p}}P{{else if q}}Q{{/with}}", {"q": 1})
case("else/chain-with-each", "{{#if a}}A{{else each xs}}{{this}}{{/if}}", {"xs": [1, 2]})
case("else/standalone-chain", "<p>\n{{#if a}}\nA\n{{else if b}}\nB\n{{else}}\nC\n{{/if}}\n</p>\n", {"b": True})
case("else/tilde-chain", "{{#if a~}}  A  {{~else if b~}}  B  {{~else~}}  C  {{~/if}}", {"b": True})
case("else/unless-chain", "{{#unless a}}U{{else unless b}}V{{else}}W{{/unless}}", {"a": True, "b": True})
case("else/inverted-section-else", "{{^x}}none{{else}}some{{/x}}", {"x": [1]})
# sections
case("section/zero", "[{{#z}}x{{/z}}][{{^z}}y{{/z}}]", {"z": 0})
case("section/empty-string", "[{{#s}}x{{/s}}]", {"s": ""})
case("section/object-empty", "[{{#o}}x{{/o}}]", {"o": {}})
case("section/nested-list-index", "{{#xs}}{{@index}}{{/xs}}", {"xs": ["a", "b"]})
# lookups
case("lookup/index-var", "{{#each xs}}{{lookup ../ys @index}}{{/each}}", {"xs": [1, 2], "ys": ["a", "b"]})
case("lookup/falsy-object", "[{{lookup z 'a'}}]", {"z": 0})
case("lookup/array-number", "{{lookup xs 1}}", {"xs": ["a", "b"]})
case("lookup/in-with-block", "{{#with (lookup m 'k')}}{{v}}{{/with}}", {"m": {"k": {"v": "deep"}}})
# partials
case("partial/indent-nested", "<div>\n  {{> outer}}\n</div>\n", {}, {"outer": "<p>\n  {{> inner}}\n</p>\n", "inner": "a\nb\n"})
case("partial/indent-with-value-newlines", "  {{> p}}\n", {"v": "x\ny"}, {"p": "[{{v}}]\n"})
case("partial/hash-overrides-context", "{{> p a='hash'}}", {"a": "ctx", "b": "B"}, {"p": "{{a}}{{b}}"})
case("partial/block-with-partial-block-nested", "{{#> a}}X{{/a}}", {}, {"a": "<{{#> b}}[{{> @partial-block}}]{{/b}}>", "b": "({{> @partial-block}})"})
case("partial/inline-recursion", '{{#*inline "t"}}{{n}}{{#each k}}({{> t}}){{/each}}{{/inline}}{{> t}}', {"n": 1, "k": [{"n": 2, "k": []}]})
case("partial/inline-after-use", '{{> p}}{{#*inline "p"}}late{{/inline}}', {})
case("partial/inline-scoped-to-block", '{{#if a}}{{#*inline "p"}}in{{/inline}}{{> p}}{{/if}}{{> p}}', {"a": True}, {"p": "global"})
case("partial/layout-with-blocks", '{{#> layout title="T"}}{{#*inline "body"}}B{{v}}{{/inline}}{{/layout}}', {"v": 1}, {"layout": "<h1>{{title}}</h1>{{> body}}|{{> @partial-block}}"})
case("partial/dynamic-string", "{{> (concat 'p' n)}}", {"n": 2}, {"p1": "one", "p2": "two"}, None, ["concat"])
case("partial/standalone-crlf", "a\r\n  {{> p}}\r\nb", {}, {"p": "x\r\ny"})
case("partial/block-fallback-context", "{{#> nope}}{{v}}{{/nope}}", {"v": "fb"})
case("partial/missing-block-partial-error", "{{> @partial-block}}", {})
# whitespace
case("ws/standalone-comment-long", "a\n  {{!-- x --}}  \nb", {})
case("ws/standalone-tab", "a\n\t{{#if t}}\t\nb\n\t{{/if}}\t\nc", {"t": True})
case("ws/ignore-standalone-partial", "a\n  {{> p}}\nb", {}, {"p": "P\n"}, {"ignoreStandalone": True})
case("ws/tilde-mustache-newlines", "a\n\n  {{~x~}}\n\n  b", {"x": "X"})
case("ws/standalone-at-eof-no-newline", "x\n{{#if t}}\ny\n{{/if}}", {"t": True})
case("ws/raw-block-standalone", "{{{{raw}}}}\n{{x}}\n{{{{/raw}}}}\n", {}, None, None, ["raw"])
# escapes & raw
case("escape/backslash-at-end", "a\\", {})
case("escape/escaped-then-real", "\\{{a}}{{b}}\\{{c}}", {"b": "B"})
case("raw/nested", "{{{{raw}}}}{{{{raw}}}}x{{{{/raw}}}}{{{{/raw}}}}", {}, None, None, ["raw"])
case("comment/containing-mustache", "a{{!-- {{#if}} {{/each}} --}}b{{! {{x}} }}c", {})
# helpers
case("helper/hash-literals", "{{json x}}", {"x": 1}, None, None, ["json"])
case("helper/block-hash", "{{#if x includeZero=true}}y{{/if}}", {"x": 0})
case("helper/data-lambda", "{{f}}|{{#if f}}t{{/if}}", {"f": "not-a-function"})
case("helper/block-param-shadows-helper", "{{#each xs as |upper|}}{{upper}}{{/each}}", {"xs": ["a"]}, None, None, ["upper"])
case("helper/this-dot-name-not-helper", "{{./upper}}{{this.upper}}", {"upper": "f"}, None, None, ["upper"])
case("helper/missing-block-helper", "{{#nohelper x}}y{{/nohelper}}", {"x": 1})
case("helper/missing-hash-only", "[{{nohelper x=1}}]", {})
case("helper/subexpr-hash", "{{upper (concat a b)}}", {"a": "x", "b": "y"}, None, None, ["upper", "concat"])
# strict & options
case("strict/intermediate-missing", "{{a.b.c}}", {"a": {}}, None, {"strict": True})
case("strict/param-missing-ok", "{{#if a.b}}y{{else}}n{{/if}}", {"a": {}}, None, {"strict": True})
case("strict/each-missing-list", "{{#each nope}}x{{/each}}", {}, None, {"strict": True})
case("strict/block-param", "{{#each xs as |x|}}{{x.n}}{{/each}}", {"xs": [{"n": 1}]}, None, {"strict": True})
case("strict/section-missing", "{{#nope}}x{{/nope}}", {}, None, {"strict": True})
case("strict/null-in-path", "{{a.b}}", {"a": None}, None, {"strict": True})
case("options/assume-objects", "{{a.b.c}}", {"a": {}}, None, {"assumeObjects": True})
case("options/assume-objects-ok", "[{{a.b}}]", {"a": {}}, None, {"assumeObjects": True})
case("options/no-escape", "{{x}}", {"x": "<b>"}, None, {"noEscape": True})
case("options/known-helpers-only-value", "{{foo}}", {"foo": "v"}, None, {"knownHelpersOnly": True})
case("options/known-helpers-only-error", "{{foo 1}}", {}, None, {"knownHelpersOnly": True})
# found by differential fuzzing against handlebars.js
case("lookup/object-as-key", "[{{lookup o k}}][{{lookup xs ks}}]", {"o": {"a": 1, "[object Object]": "obj"}, "k": {"x": 1}, "xs": ["a", "b"], "ks": [1]})
case("null-context/if-this", "{{#each xs}}[{{#each c}}{{else if this}}T{{/each}}]{{/each}}", {"xs": [None, {}, 0]})
case("null-context/with-dot", "{{#each xs}}{{#if a}}A{{else}}{{#with .}}W{{else}}E{{/with}}{{/if}}{{/each}}", {"xs": [None, False]})
case("null-context/depth", "{{#each .}}{{#if .}}{{else}}{{#unless xs}}{{{../b}}}{{/unless}}{{/if}}{{/each}}", {"b": "B", "n": None, "s": False, "e": []})
case("null-context/inline-partial-depth", '{{#*inline "q"}}[{{../a}}|{{#each ../xs}}x{{/each}}]{{/inline}}{{#each xs}}{{> q}}{{/each}}{{#with o}}{{#*inline "w"}}<{{../a}}>{{/inline}}{{> w}}{{/with}}', {"a": "A", "xs": [1, 2], "o": {"a": "inner"}})
case("strict/parent-above-root", "{{#if ../x}}y{{/if}}", {"x": 1}, None, {"strict": True})
case("strict/key-of-a-string", "{{s.[1]}}", {"s": "abc"}, None, {"strict": True})
case("strict/length-of-a-string", "{{s.length}}", {"s": "abc"}, None, {"strict": True})
case("strict/param-on-null-item", "{{#each xs}}{{#if a}}A{{/if}}{{/each}}", {"xs": [None]}, None, {"strict": True})
case("strict/param-on-null-parent", "{{#each xs}}{{#if this.a}}A{{else}}B{{/if}}{{/each}}", {"xs": [{}, {"a": 1}]}, None, {"strict": True})
# number literals as handlebars.js reads them (JavaScript's Number(), then String())
case("number/huge-literal-param", "{{concat 1" + "0" * 400 + ".5}}|{{concat -1" + "0" * 400 + "}}", {}, None, None, ["concat"])
case("number/beyond-2-53", "{{concat 99999999999999999999}} {{concat 9007199254740993}} {{concat 123456789.123456789}}", {}, None, None, ["concat"])
case("number/zeros-and-padding", "{{concat -0}} {{concat -0.0}} {{concat 007}} {{concat 1.50}}", {}, None, None, ["concat"])
case("number/literal-as-name", "[{{007}}][{{12345678901234567890123.5 }}][{{" + "1" * 400 + ".5}}][{{#7}}x{{/7}}]", {"7": True, "1.2345678901234568e+22": "big"})
case("number/huge-literal-hash", "{{greet name=1" + "0" * 400 + ".5}}", {}, None, None, ["greet"])
case("number/lookup-by-number", "{{lookup xs 1.0}}{{lookup o 2.50}}", {"xs": ["a", "b"], "o": {"2.5": "half"}})
# compile options (handlebars.js 4.7.10 semantics)
case("compat/with-reads-root", "{{#with transaction}}{{id}} {{marketplace.url}}{{/with}}", {"transaction": {"id": 1}, "marketplace": {"url": "U"}}, None, {"compat": True})
case("compat/each-falls-back", "{{#each xs}}{{name}}{{title}};{{/each}}", {"xs": [{"name": "a"}, {"title": "own"}], "title": "T"}, None, {"compat": True})
case("compat/scoped-paths-do-not", "{{#with a}}[{{this.t}}][{{./t}}][{{t}}]{{/with}}", {"a": {}, "t": "T"}, None, {"compat": True})
case("compat/null-falls-back", "{{#with a}}[{{t}}]{{/with}}", {"a": {"t": None}, "t": "T"}, None, {"compat": True})
case("compat/first-part-only", "{{#with a}}[{{b.c}}][{{b.d}}]{{/with}}", {"a": {"b": {"d": "own"}}, "b": {"c": "C"}}, None, {"compat": True})
case("compat/helper-param", "{{#with a}}{{concat t '|' u}}{{/with}}", {"a": {"u": "U"}, "t": "T"}, None, {"compat": True}, ["concat"])
case("compat/section", "{{#with a}}{{#t}}x{{/t}}{{^u}}y{{/u}}{{/with}}", {"a": {}, "t": True, "u": False}, None, {"compat": True})
case("compat/partial", "{{#with a}}{{> p}}{{/with}}", {"a": {"v": 1}, "t": "T"}, {"p": "[{{t}}{{v}}]"}, {"compat": True})
case("compat/partial-in-each", "{{#each xs}}{{> p}}{{/each}}", {"xs": [{"n": 1}, {"n": 2}], "sep": ";"}, {"p": "{{n}}{{sep}}"}, {"compat": True})
case("compat/block-params-first", "{{#each xs as |t|}}{{t}}{{/each}}", {"xs": [1, 2], "t": "T"}, None, {"compat": True})
case("compat/depth-path", "{{#with a}}{{#with b}}{{../c}}{{x}}{{/with}}{{/with}}", {"a": {"b": {}, "c": "C"}, "x": "X"}, None, {"compat": True})
case("data-false/partial-has-no-data", "[{{@root.a}}][{{> p}}]", {"a": 1}, {"p": "({{@root.a}})"}, {"data": False})
case("data-false/each-still-counts", "[{{#each xs}}{{@index}}{{@first}}{{/each}}]", {"xs": [5, 6]}, None, {"data": False})
case("data-false/runtime-data", "[{{@foo}}]", {}, None, {"data": False}, None, {"data": {"foo": "F"}})
case("explicit-partial-context/none", "{{> p}}|{{> p .}}|{{> p x=1}}|{{> p . x=1}}", {"t": "T"}, {"p": "[{{t}}{{x}}]"}, {"explicitPartialContext": True})
case("explicit-partial-context/block", "{{#> p}}{{t}}{{/p}}", {"t": "T"}, {"p": "[{{t}}]{{> @partial-block}}"}, {"explicitPartialContext": True})
case("known-helpers/map-with-only", "{{upper a}} {{#noop}}n{{/noop}}", {"a": "x"}, None, {"knownHelpers": {"upper": True, "noop": True}, "knownHelpersOnly": True}, ["upper", "noop"])
case("known-helpers/unknown-with-only", "{{concat a}}", {"a": "x"}, None, {"knownHelpers": {"upper": True}, "knownHelpersOnly": True}, ["concat"])
case("known-helpers/builtin-switched-off", "{{#if a}}x{{/if}}", {"a": 1}, None, {"knownHelpers": {"if": False}, "knownHelpersOnly": True})
case("known-helpers/map-without-only", "[{{upper}}]", {"upper": "data"}, None, {"knownHelpers": {"upper": True}}, ["upper"])
case("known-helpers-only/plain-lookups", "[{{a}}][{{b.c}}][{{#a}}x{{/a}}]", {"a": "x", "b": {"c": 1}}, None, {"knownHelpersOnly": True})
case("assume-objects/null-root", "{{a.b}}", None, None, {"assumeObjects": True})
case("assume-objects/null-root-simple", "[{{a}}]", None, None, {"assumeObjects": True})
case("assume-objects/null-root-static", "static", None, None, {"assumeObjects": True})
case("assume-objects/missing-parent", "[{{a.b}}]", {}, None, {"assumeObjects": True})
case("assume-objects/present", "[{{a.b}}][{{c}}]", {"a": {"b": 1}}, None, {"assumeObjects": True})
# runtime options
case("runtime/data", "[{{@foo}}][{{#each xs}}{{@foo}}{{@index}}{{/each}}][{{> p}}]", {"xs": [1]}, {"p": "{{@foo}}"}, None, None, {"data": {"foo": "F"}})
case("runtime/helper-missing-denied", "[{{helperMissing}}]", {})
case("runtime/helper-missing-allowed", "[{{helperMissing}}]", {}, None, None, None, {"allowCallsToHelperMissing": True})
case("runtime/helper-missing-args-denied", "[{{helperMissing 1}}]", {})
case("runtime/helper-missing-args-allowed", "[{{helperMissing 1}}]", {}, None, None, None, {"allowCallsToHelperMissing": True})
case("runtime/block-helper-missing-denied", "[{{#blockHelperMissing}}x{{/blockHelperMissing}}]", {})
case("runtime/block-helper-missing-allowed", "[{{#blockHelperMissing}}x{{/blockHelperMissing}}]", {}, None, None, None, {"allowCallsToHelperMissing": True})
# handlebars.js ordering
case("order/partial-hash", "{{> p a=1 b=2}}", {"z": 0}, {"p": "{{#each .}}{{@key}}{{/each}}"})
case("order/partial-hash-over-context", "{{> p b=1 z=2}}", {"z": 0, "a": 5}, {"p": "{{#each .}}{{@key}}={{this}};{{/each}}"})
case("order/object-keys", "{{#each o}}{{@key}},{{/each}}", {"o": {"b": 1, "10": 2, "a": 3, "2": 4, "-1": 5, "01": 6, "4294967295": 7, "4294967294": 8, "0": 9}})
case("order/object-keys-in-partial-context", "{{> p x=1}}", {"b": 1, "3": 2}, {"p": "{{#each .}}{{@key}}{{/each}}"})
case("order/utf16-length", "{{s.length}} {{e.length}} {{a.length}}", {"s": "a😀é", "e": "", "a": ["😀"]})
# syntax errors
for name, t in [("open-sexpr", "{{foo (bar}}"), ("bad-hash", "{{foo a=}}"), ("unclosed-comment", "{{!-- x"),
                ("unclosed-raw", "{{{{raw}}}} x"), ("mismatched-raw", "{{{{raw}}}} x {{{{/other}}}}"),
                ("else-in-partial-block", "{{#> p}}a{{else}}b{{/p}}"), ("triple-mismatch", "{{{x}}"),
                ("path-this-after", "{{a.this}}"), ("dotdot-after", "{{a/../b}}"), ("bad-block-params", "{{#each xs as ||}}{{/each}}"),
                ("hash-then-param", "{{foo a=1 b}}"), ("invalid-char", "{{foo\"}}"), ("unclosed-nested", "{{#if a}}{{#each b}}{{/if}}"),
                ("close-no-name", "{{#if a}}{{/}}"), ("two-partial-params", "{{> p a b}}"), ("lone-open", "{{"),
                ("newline-position", "line1\nline2 {{#if}}\n{{/each}}"), ("stray-inverse-chain", "{{else if x}}"),
                ("decorator", "{{* foo}}"), ("number-path", "{{xs.1}}"),
                ("this-block-param", "{{#this a}}x{{/this}}"), ("dot-block-param", "{{#. a}}x{{/.}}"),
                ("this-block-hash", "{{#this k=1}}x{{/this}}"), ("this-helper", "{{this a}}"),
                ("dot-hash", "{{. k=1}}"), ("this-subexpr", "{{x (this a)}}"), ("this-raw", "{{{{this a}}}}x{{{{/this}}}}"),
                ("dot-subexpr", "{{x (.)}}")]:
    case("error/" + name, t, {})
json.dump(C, open("extra.in.json", "w"), indent=1, ensure_ascii=False)
print(len(C))
