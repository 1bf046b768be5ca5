package grants

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// contractCatalog is what the example in CONTRACT.md means.
func contractCatalog() *Catalog {
	return &Catalog{
		Admins: []string{"Portal Admins"},
		Groups: map[string]string{
			"group:eng": "Engineering",
			"group:sre": "SRE",
		},
		Resources: map[string]Resource{
			"prod-db": {
				Name:            "prod-db",
				Description:     "Production Aurora Postgres",
				Group:           "group:jit-prod-db",
				Eligible:        []string{"Engineering"},
				Approvers:       []string{"Security"},
				Approvals:       1,
				AutoApprove:     []string{"On-Call"},
				MaxDuration:     4 * time.Hour,
				DefaultDuration: time.Hour,
				RequireReason:   true,
			},
		},
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "catalog", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t *testing.T, text string) *Catalog {
	t.Helper()
	c, err := ParseCatalog("catalog.hujson", []byte(text))
	if err != nil {
		t.Fatalf("ParseCatalog: %v\n%s", err, text)
	}
	return c
}

func TestParseCatalogContractExample(t *testing.T) {
	got, err := ParseCatalog("contract.hujson", readFixture(t, "contract.hujson"))
	if err != nil {
		t.Fatal(err)
	}
	if want := contractCatalog(); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseCatalog(contract example)\n got %#v\nwant %#v", got, want)
	}
}

func TestLoadCatalogFile(t *testing.T) {
	path := filepath.Join("testdata", "catalog", "contract.hujson")
	got, err := LoadCatalogFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, contractCatalog()) {
		t.Errorf("LoadCatalogFile(%s) = %#v", path, got)
	}

	if _, err := LoadCatalogFile(filepath.Join(t.TempDir(), "missing.hujson")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadCatalogFile(missing) error = %v, want one wrapping os.ErrNotExist", err)
	}

	bad := filepath.Join(t.TempDir(), "bad.hujson")
	if err := os.WriteFile(bad, []byte("{\n  \"admins\": [1],\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadCatalogFile(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+":2: admins[0]: ") {
		t.Errorf("LoadCatalogFile(bad) error = %v, want it to start with %q", err, bad+":2: admins[0]: ")
	}
}

func TestParseCatalogDefaults(t *testing.T) {
	c := mustParse(t, `{
		"resources": {
			"plain": {"group": "group:jit-plain"},
			"short": {"group": "group:jit-short", "maxDuration": "30m"},
			"long": {"group": "group:jit-long", "maxDuration": "24h", "approvals": 2, "eligible": [], "requireReason": false},
			"chosen": {"group": "group:jit-chosen", "defaultDuration": "8h"},
		},
	}`)
	want := map[string]Resource{
		"plain":  {Name: "plain", Group: "group:jit-plain", Approvals: 1, MaxDuration: 8 * time.Hour, DefaultDuration: time.Hour},
		"short":  {Name: "short", Group: "group:jit-short", Approvals: 1, MaxDuration: 30 * time.Minute, DefaultDuration: 30 * time.Minute},
		"long":   {Name: "long", Group: "group:jit-long", Approvals: 2, MaxDuration: 24 * time.Hour, DefaultDuration: time.Hour},
		"chosen": {Name: "chosen", Group: "group:jit-chosen", Approvals: 1, MaxDuration: 8 * time.Hour, DefaultDuration: 8 * time.Hour},
	}
	if !reflect.DeepEqual(c.Resources, want) {
		t.Errorf("resources\n got %#v\nwant %#v", c.Resources, want)
	}
	if c.Admins != nil || len(c.Groups) != 0 {
		t.Errorf("admins = %#v, groups = %#v; want none", c.Admins, c.Groups)
	}
}

func TestParseCatalogEmpty(t *testing.T) {
	for _, text := range []string{
		"",
		" \n\t\n",
		"// nothing here yet\n",
		"/* nothing */",
		"// no newline at the end",
		"{}",
		"{\n  // to do\n}\n",
		"\uFEFF{}",
		`{"admins": [], "groups": {}, "resources": {},}`,
	} {
		c, err := ParseCatalog("catalog.hujson", []byte(text))
		if err != nil {
			t.Errorf("ParseCatalog(%q): %v", text, err)
			continue
		}
		want := &Catalog{Groups: map[string]string{}, Resources: map[string]Resource{}}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("ParseCatalog(%q) = %#v, want an empty catalog", text, c)
		}
	}
}

func TestParseCatalogCommentsAndTrailingCommas(t *testing.T) {
	c := mustParse(t, `/* The access catalog. */
{
	"admins": [
		"Portal Admins", // the IT team
		"Security",
	],
	"groups": { /* synced */ "group:eng": "Engineering", },
	"resources": {
		"staging": {
			"group": /* inline */ "group:jit-staging",
			"approvers": ["SRE",],
		},
	},
}
// trailing comment`)
	if want := []string{"Portal Admins", "Security"}; !reflect.DeepEqual(c.Admins, want) {
		t.Errorf("admins = %q, want %q", c.Admins, want)
	}
	if c.Groups["group:eng"] != "Engineering" {
		t.Errorf("groups = %q", c.Groups)
	}
	if r := c.Resources["staging"]; r.Group != "group:jit-staging" || !reflect.DeepEqual(r.Approvers, []string{"SRE"}) {
		t.Errorf("staging = %#v", r)
	}
}

func TestParseCatalogPlainJSON(t *testing.T) {
	c := mustParse(t, `{"admins":["A"],"groups":{"group:a":"A"},"resources":{"r":{"group":"group:r","description":"caf\u00e9 \"R&D\""}}}`)
	if got := c.Resources["r"].Description; got != `café "R&D"` {
		t.Errorf("description = %q", got)
	}
}

func TestParseCatalogRejects(t *testing.T) {
	// The line an error must name is marked with "// <-"; cases without a
	// marker give wantLine.
	tests := []struct {
		name     string
		text     string
		wantLine int
		wantKey  string
		wantMsg  string
	}{
		{
			name: "root is a list", wantLine: 2, wantKey: "", wantMsg: "must be an object, not a list",
			text: "// catalog\n[\"Portal Admins\"]\n",
		},
		{
			name: "root is null", wantLine: 1, wantMsg: "must be an object, not null",
			text: "null",
		},
		{
			name: "syntax error: missing comma", wantMsg: "syntax error at column 3: invalid character",
			text: `{
  "admins": ["Portal Admins"]
  "groups": {}, // <-
}`,
		},
		{
			name: "syntax error: unterminated object", wantLine: 3, wantMsg: "unexpected EOF",
			text: "{\n  \"admins\": [],\n",
		},
		{
			name: "syntax error: bad literal", wantMsg: "syntax error",
			text: `{
  "resources": {
    "db": {"group": "group:db", "requireReason": yes}, // <-
  },
}`,
		},
		{
			name: "unknown root key", wantKey: "approvers", wantMsg: "unknown key",
			text: `{
  "admins": [],
  "approvers": [], // <-
}`,
		},
		{
			name: "unknown root key in another case", wantKey: "Admins", wantMsg: `unknown key (did you mean "admins"?)`,
			text: `{
  "Admins": [], // <-
}`,
		},
		{
			name: "unknown resource key", wantKey: "resources.prod-db.maxduration", wantMsg: `unknown key (did you mean "maxDuration"?)`,
			text: `{
  "resources": {
    "prod-db": {
      "group": "group:jit-prod-db",
      "maxduration": "4h", // <-
    },
  },
}`,
		},
		{
			name: "duplicate root key", wantKey: "admins", wantMsg: "duplicate key (first on line 2)",
			text: `{
  "admins": ["A"],
  "admins": ["B"], // <-
}`,
		},
		{
			name: "duplicate synced group", wantKey: "groups.group:eng", wantMsg: "duplicate key (first on line 3)",
			text: `{
  "groups": {
    "group:eng": "Engineering",
    "group:eng": "Eng", // <-
  },
}`,
		},
		{
			name: "duplicate resource", wantKey: "resources.db", wantMsg: "duplicate key (first on line 3)",
			text: `{
  "resources": {
    "db": {"group": "group:db"},
    "db": {"group": "group:db2"}, // <-
  },
}`,
		},
		{
			name: "duplicate resource field", wantKey: "resources.db.maxDuration", wantMsg: "duplicate key (first on line 5)",
			text: `{
  "resources": {
    "db": {
      "group": "group:db",
      "maxDuration": "4h",
      "maxDuration": "2h", // <-
    },
  },
}`,
		},
		{
			name: "admins not a list", wantKey: "admins", wantMsg: "must be a list of Okta group names, not a string",
			text: `{
  "admins": "Portal Admins", // <-
}`,
		},
		{
			name: "admins holds a number", wantKey: "admins[1]", wantMsg: "must be a string, not a number",
			text: `{
  "admins": [
    "Portal Admins",
    42, // <-
  ],
}`,
		},
		{
			name: "admins holds an empty name", wantKey: "admins[0]", wantMsg: "must not be empty",
			text: `{
  "admins": [""], // <-
}`,
		},
		{
			name: "admins lists a group twice", wantKey: "admins[2]", wantMsg: `"A" is listed twice (first on line 3)`,
			text: `{
  "admins": [
    "A",
    "B",
    "A", // <-
  ],
}`,
		},
		{
			name: "groups not an object", wantKey: "groups", wantMsg: "must be an object, not a list",
			text: `{
  "groups": ["group:eng"], // <-
}`,
		},
		{
			name: "synced group value not a string", wantKey: "groups.group:eng", wantMsg: "must be a string, not a list",
			text: `{
  "groups": {
    "group:eng": ["Engineering"], // <-
  },
}`,
		},
		{
			name: "synced group value blank", wantKey: "groups.group:eng", wantMsg: "Okta group name must not be empty",
			text: `{
  "groups": {
    "group:eng": "  ", // <-
  },
}`,
		},
		{
			name: "synced group without prefix", wantKey: "groups.eng", wantMsg: `must start with "group:"`,
			text: `{
  "groups": {
    "group:sre": "SRE",
    "eng": "Engineering", // <-
  },
}`,
		},
		{
			name: "synced group with an empty name", wantKey: "groups.group:", wantMsg: `needs a name after "group:"`,
			text: `{
  "groups": {
    "group:": "Engineering", // <-
  },
}`,
		},
		{
			name: "synced group with a space", wantKey: "groups.group:on call", wantMsg: "may only use letters, digits",
			text: `{
  "groups": {
    "group:on call": "On-Call", // <-
  },
}`,
		},
		{
			name: "resources not an object", wantKey: "resources", wantMsg: "must be an object, not a list",
			text: `{
  "resources": [], // <-
}`,
		},
		{
			name: "resource not an object", wantKey: "resources.db", wantMsg: "must be an object, not a string",
			text: `{
  "resources": {
    "db": "group:db", // <-
  },
}`,
		},
		{
			name: "resource without group", wantKey: "resources.db.group", wantMsg: "missing",
			text: `{
  "resources": {
    "db": { // <-
      "description": "The database",
    },
  },
}`,
		},
		{
			name: "resource group without prefix", wantKey: "resources.db.group", wantMsg: `"jit-db" must start with "group:"`,
			text: `{
  "resources": {
    "db": {
      "group": "jit-db", // <-
    },
  },
}`,
		},
		{
			name: "resource group not a string", wantKey: "resources.db.group", wantMsg: "must be a string, not null",
			text: `{
  "resources": {
    "db": {
      "group": null, // <-
    },
  },
}`,
		},
		{
			name: "resource name starts with a dash", wantKey: "resources.-db", wantMsg: `invalid resource name "-db"`,
			text: `{
  "resources": {
    "-db": {"group": "group:db"}, // <-
  },
}`,
		},
		{
			name: "resource name with a space", wantKey: "resources.prod db", wantMsg: `invalid resource name "prod db"`,
			text: `{
  "resources": {
    "prod db": {"group": "group:db"}, // <-
  },
}`,
		},
		{
			name: "resource name empty", wantKey: "resources.", wantMsg: `invalid resource name ""`,
			text: `{
  "resources": {
    "": {"group": "group:db"}, // <-
  },
}`,
		},
		{
			name: "resource group is also synced", wantKey: "resources.db.group", wantMsg: `"group:eng" is also a synced group (groups, line 2)`,
			text: `{
  "groups": {"group:eng": "Engineering"},
  "resources": {
    "db": {
      "group": "group:eng", // <-
    },
  },
}`,
		},
		{
			name: "resource group is also synced, groups written last", wantKey: "resources.db.group", wantMsg: `"group:eng" is also a synced group (groups, line 7)`,
			text: `{
  "resources": {
    "db": {"group": "group:eng"}, // <-
  },
  "groups": {
    // synced
    "group:eng": "Engineering",
  },
}`,
		},
		{
			name: "two resources share a group", wantKey: "resources.replica.group", wantMsg: `"group:jit-db" is already the group of resource "db" (line 3)`,
			text: `{
  "resources": {
    "db": {"group": "group:jit-db"},
    "replica": {
      "group": "group:jit-db", // <-
    },
  },
}`,
		},
		{
			name: "duration in words", wantKey: "resources.prod-db.maxDuration", wantMsg: `invalid duration "4 hours"`,
			text: `{
  "resources": {
    "prod-db": {
      "group": "group:jit-prod-db",
      "maxDuration": "4 hours", // <-
    },
  },
}`,
		},
		{
			name: "duration as a number", wantKey: "resources.db.maxDuration", wantMsg: "must be a duration string",
			text: `{
  "resources": {
    "db": {"group": "group:db",
      "maxDuration": 4}, // <-
  },
}`,
		},
		{
			name: "zero duration", wantKey: "resources.db.maxDuration", wantMsg: `duration "0s" must be positive`,
			text: `{
  "resources": {
    "db": {"group": "group:db", "maxDuration": "0s"}, // <-
  },
}`,
		},
		{
			name: "negative duration", wantKey: "resources.db.defaultDuration", wantMsg: `duration "-1h" must be positive`,
			text: `{
  "resources": {
    "db": {"group": "group:db", "defaultDuration": "-1h"}, // <-
  },
}`,
		},
		{
			name: "default longer than max", wantKey: "resources.db.defaultDuration", wantMsg: "2h is longer than maxDuration 1h30m",
			text: `{
  "resources": {
    "db": {
      "group": "group:db",
      "maxDuration": "90m",
      "defaultDuration": "2h", // <-
    },
  },
}`,
		},
		{
			name: "default longer than the default max", wantKey: "resources.db.defaultDuration", wantMsg: "10h is longer than maxDuration 8h (the default)",
			text: `{
  "resources": {
    "db": {
      "group": "group:db",
      "defaultDuration": "10h", // <-
    },
  },
}`,
		},
		{
			name: "approvals zero", wantKey: "resources.db.approvals", wantMsg: "must be at least 1, not 0",
			text: `{
  "resources": {
    "db": {
      "group": "group:db",
      "approvals": 0, // <-
    },
  },
}`,
		},
		{
			name: "approvals negative", wantKey: "resources.db.approvals", wantMsg: "must be at least 1, not -2",
			text: `{
  "resources": {
    "db": {"group": "group:db", "approvals": -2}, // <-
  },
}`,
		},
		{
			name: "approvals fractional", wantKey: "resources.db.approvals", wantMsg: "must be a whole number, not 1.5",
			text: `{
  "resources": {
    "db": {
      "group": "group:db",
      "approvals": 1.5, // <-
    },
  },
}`,
		},
		{
			name: "approvals in exponent form", wantKey: "resources.db.approvals", wantMsg: "must be a whole number, not 2e0",
			text: `{
  "resources": {
    "db": {"group": "group:db", "approvals": 2e0}, // <-
  },
}`,
		},
		{
			name: "approvals as a string", wantKey: "resources.db.approvals", wantMsg: "must be a whole number, not a string",
			text: `{
  "resources": {
    "db": {"group": "group:db", "approvals": "2"}, // <-
  },
}`,
		},
		{
			name: "requireReason as a string", wantKey: "resources.db.requireReason", wantMsg: "must be true or false, not a string",
			text: `{
  "resources": {
    "db": {
      "group": "group:db",
      "requireReason": "yes", // <-
    },
  },
}`,
		},
		{
			name: "description not a string", wantKey: "resources.db.description", wantMsg: "must be a string, not an object",
			text: `{
  "resources": {
    "db": {
      "description": {}, // <-
      "group": "group:db",
    },
  },
}`,
		},
		{
			name: "eligible as a string", wantKey: "resources.db.eligible", wantMsg: "must be a list of Okta group names, not a string",
			text: `{
  "resources": {
    "db": {
      "group": "group:db",
      "eligible": "Engineering", // <-
    },
  },
}`,
		},
		{
			name: "eligible lists a group twice", wantKey: "resources.db.eligible[1]", wantMsg: `"Engineering" is listed twice`,
			text: `{
  "resources": {
    "db": {
      "group": "group:db",
      "eligible": ["Engineering", "Engineering"], // <-
    },
  },
}`,
		},
		{
			name: "approvers holds an empty name", wantKey: "resources.db.approvers[0]", wantMsg: "must not be empty",
			text: `{
  "resources": {
    "db": {
      "group": "group:db",
      "approvers": [""], // <-
    },
  },
}`,
		},
		{
			name: "autoApprove holds null", wantKey: "resources.db.autoApprove[1]", wantMsg: "must be a string, not null",
			text: `{
  "resources": {
    "db": {
      "group": "group:db",
      "autoApprove": [
        "On-Call",
        null, // <-
      ],
    },
  },
}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantLine := tt.wantLine
			if wantLine == 0 {
				wantLine = markedLine(t, tt.text)
			}
			c, err := ParseCatalog("catalog.hujson", []byte(tt.text))
			if err == nil {
				t.Fatalf("ParseCatalog succeeded with %#v, want an error", c)
			}
			if c != nil {
				t.Errorf("ParseCatalog returned a catalog along with error %v", err)
			}
			var ce *CatalogError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a *CatalogError", err, err)
			}
			if ce.File != "catalog.hujson" || ce.Line != wantLine || ce.Key != tt.wantKey {
				t.Errorf("error at %s:%d key %q, want catalog.hujson:%d key %q (%v)", ce.File, ce.Line, ce.Key, wantLine, tt.wantKey, err)
			}
			if !strings.Contains(ce.Msg, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", ce.Msg, tt.wantMsg)
			}
			prefix := "catalog.hujson:" + strconv.Itoa(wantLine) + ": "
			if tt.wantKey != "" {
				prefix += tt.wantKey + ": "
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
		})
	}
}

// markedLine returns the 1-based line of text that holds the marker "// <-".
func markedLine(t *testing.T, text string) int {
	t.Helper()
	for i, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "// <-") {
			return i + 1
		}
	}
	t.Fatal("test case has neither wantLine nor a // <- marker")
	return 0
}

func TestCatalogErrorString(t *testing.T) {
	tests := []struct {
		err  CatalogError
		want string
	}{
		{CatalogError{File: "catalog.hujson", Line: 12, Key: "resources.prod-db.maxDuration", Msg: `invalid duration "4 hours"`},
			`catalog.hujson:12: resources.prod-db.maxDuration: invalid duration "4 hours"`},
		{CatalogError{File: "catalog.hujson", Line: 3, Msg: "syntax error"}, "catalog.hujson:3: syntax error"},
		{CatalogError{File: "catalog.hujson", Key: "admins", Msg: "bad"}, "catalog.hujson: admins: bad"},
		{CatalogError{Line: 4, Key: "admins", Msg: "bad"}, "line 4: admins: bad"},
		{CatalogError{Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

const contractFormatted = `{
  "admins": ["Portal Admins"],
  "groups": {
    "group:eng": "Engineering",
    "group:sre": "SRE",
  },
  "resources": {
    "prod-db": {
      "description": "Production Aurora Postgres",
      "group": "group:jit-prod-db",
      "eligible": ["Engineering"],
      "approvers": ["Security"],
      "approvals": 1,
      "autoApprove": ["On-Call"],
      "maxDuration": "4h",
      "defaultDuration": "1h",
      "requireReason": true,
    },
  },
}
`

func TestFormatContractExample(t *testing.T) {
	c, err := ParseCatalog("contract.hujson", readFixture(t, "contract.hujson"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(c.Format()); got != contractFormatted {
		t.Errorf("Format() =\n%s\nwant\n%s", got, contractFormatted)
	}
}

func TestFormatEmpty(t *testing.T) {
	want := "{\n  \"admins\": [],\n  \"groups\": {},\n  \"resources\": {},\n}\n"
	for _, c := range []*Catalog{{}, mustParse(t, "")} {
		if got := string(c.Format()); got != want {
			t.Errorf("Format() = %q, want %q", got, want)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	texts := map[string]string{
		"contract": string(readFixture(t, "contract.hujson")),
		"empty":    "",
		"defaults": `{"resources": {"a": {"group": "group:a"}, "b": {"group": "group:b", "maxDuration": "20m"}}}`,
		"rich": `{
			"admins": ["Portal Admins", "IT <Ops> & \"Friends\"", "Équipe"],
			"groups": {"group:z": "Zeta", "group:a.b_c-d": "Alpha", "group:m": "Zeta"},
			"resources": {
				"zz.top": {"group": "group:zz", "maxDuration": "90m", "defaultDuration": "90s", "approvals": 3,
					"approvers": ["B", "A"], "autoApprove": ["On-Call"], "eligible": ["E1", "E2"],
					"description": "line one\nline two\ttab \\ backslash"},
				"A1": {"group": "group:a1", "maxDuration": "1500ms", "requireReason": true},
				"b_2": {"group": "group:b2", "maxDuration": "36h", "defaultDuration": "2h30m"},
			},
		}`,
	}
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			c := mustParse(t, text)
			formatted := c.Format()
			again, err := ParseCatalog("formatted.hujson", formatted)
			if err != nil {
				t.Fatalf("parsing Format() output: %v\n%s", err, formatted)
			}
			if !reflect.DeepEqual(again, c) {
				t.Errorf("round trip changed the catalog\n got %#v\nwant %#v\n%s", again, c, formatted)
			}
			if twice := again.Format(); string(twice) != string(formatted) {
				t.Errorf("Format is not stable:\n%s\nthen\n%s", formatted, twice)
			}
		})
	}
}

func TestFormatOrderAndDurations(t *testing.T) {
	c := mustParse(t, `{
		"resources": {
			"b": {"group": "group:b", "maxDuration": "90m", "defaultDuration": "90s"},
			"a": {"group": "group:a", "maxDuration": "36h", "defaultDuration": "1500ms"},
		},
		"groups": {"group:y": "Y", "group:x": "X"},
		"admins": ["Z", "A"],
	}`)
	want := `{
  "admins": ["Z", "A"],
  "groups": {
    "group:x": "X",
    "group:y": "Y",
  },
  "resources": {
    "a": {
      "group": "group:a",
      "approvals": 1,
      "maxDuration": "36h",
      "defaultDuration": "1.5s",
      "requireReason": false,
    },
    "b": {
      "group": "group:b",
      "approvals": 1,
      "maxDuration": "1h30m",
      "defaultDuration": "1m30s",
      "requireReason": false,
    },
  },
}
`
	if got := string(c.Format()); got != want {
		t.Errorf("Format() =\n%s\nwant\n%s", got, want)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{4 * time.Hour, "4h"},
		{90 * time.Minute, "1h30m"},
		{30 * time.Minute, "30m"},
		{time.Minute, "1m"},
		{90 * time.Second, "1m30s"},
		{45 * time.Second, "45s"},
		{time.Hour + time.Second, "1h0m1s"},
		{10 * time.Millisecond, "10ms"},
		{100 * time.Hour, "100h"},
	}
	for _, tt := range tests {
		got := formatDuration(tt.d)
		if got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != tt.d {
			t.Errorf("time.ParseDuration(%q) = %v, %v; want %v", got, back, err, tt.d)
		}
	}
}

func TestFormatFillsDefaultsForZeroFields(t *testing.T) {
	// A catalog built in code with zero counts and durations formats into a
	// valid file whose parse applies the defaults.
	c := &Catalog{Resources: map[string]Resource{"db": {Name: "db", Group: "group:db"}}}
	got := mustParse(t, string(c.Format())).Resources["db"]
	want := Resource{Name: "db", Group: "group:db", Approvals: 1, MaxDuration: 8 * time.Hour, DefaultDuration: time.Hour}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

func TestMarshalJSON(t *testing.T) {
	c := contractCatalog()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"admins":["Portal Admins"],"groups":{"group:eng":"Engineering","group:sre":"SRE"},` +
		`"resources":{"prod-db":{"description":"Production Aurora Postgres","group":"group:jit-prod-db",` +
		`"eligible":["Engineering"],"approvers":["Security"],"approvals":1,"autoApprove":["On-Call"],` +
		`"maxDuration":"4h","defaultDuration":"1h","requireReason":true}}}`
	if string(data) != want {
		t.Errorf("json.Marshal(catalog) =\n%s\nwant\n%s", data, want)
	}
	back, err := ParseCatalog("api.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("ParseCatalog(MarshalJSON) = %#v, want %#v", back, c)
	}

	empty, err := json.Marshal(&Catalog{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"admins":[],"groups":{},"resources":{}}`; string(empty) != want {
		t.Errorf("empty catalog JSON = %s, want %s", empty, want)
	}

	special := &Catalog{Groups: map[string]string{"group:rd": `R&D <"core">`}, Resources: map[string]Resource{}}
	data, err = json.Marshal(special)
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct{ Groups map[string]string }
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatalf("MarshalJSON output %s: %v", data, err)
	}
	if decoded.Groups["group:rd"] != `R&D <"core">` {
		t.Errorf("decoded groups = %q from %s", decoded.Groups, data)
	}
}

func TestManagedGroupsAndResourceNames(t *testing.T) {
	c := mustParse(t, `{
		"groups": {"group:sre": "SRE", "group:eng": "Engineering"},
		"resources": {
			"prod-db": {"group": "group:jit-prod-db"},
			"bastion": {"group": "group:jit-bastion"},
		},
	}`)
	if got, want := c.ManagedGroups(), []string{"group:eng", "group:jit-bastion", "group:jit-prod-db", "group:sre"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ManagedGroups() = %q, want %q", got, want)
	}
	if got, want := c.ResourceNames(), []string{"bastion", "prod-db"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ResourceNames() = %q, want %q", got, want)
	}
	empty := mustParse(t, "{}")
	if got := empty.ManagedGroups(); len(got) != 0 {
		t.Errorf("empty ManagedGroups() = %q", got)
	}
	if got := empty.ResourceNames(); len(got) != 0 {
		t.Errorf("empty ResourceNames() = %q", got)
	}
}

func TestCatalogOffboardingDevices(t *testing.T) {
	c, err := ParseCatalog("c.hujson", []byte(`{"offboarding": {"tailscaleDevices": "delete"}}`))
	if err != nil || !c.DeleteDevices {
		t.Fatalf("delete: %v %+v", err, c)
	}
	again, err := ParseCatalog("export", c.Format())
	if err != nil || !again.DeleteDevices {
		t.Fatalf("round trip lost the setting: %v\n%s", err, c.Format())
	}
	if c, err := ParseCatalog("c.hujson", []byte(`{"offboarding": {"tailscaleDevices": "keep"}}`)); err != nil || c.DeleteDevices {
		t.Fatalf("keep: %v %+v", err, c)
	}
	for body, want := range map[string]string{
		"{\n\"offboarding\": {\"tailscaleDevices\": \"wipe\"}}": `c.hujson:2: offboarding.tailscaleDevices: must be "keep" or "delete"`,
		"{\n\"offboarding\": {\"devices\": \"delete\"}}":        "c.hujson:2: offboarding.devices: unknown key",
	} {
		if _, err := ParseCatalog("c.hujson", []byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", body, err, want)
		}
	}
}
