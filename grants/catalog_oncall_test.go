package grants

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCatalogOnCallAndDevicePosture: the contract's onCall and
// devicePosture keys parse with their defaults, survive Format and parse
// back equal, and bad values are refused naming the key.
func TestCatalogOnCallAndDevicePosture(t *testing.T) {
	c := mustParse(t, `{
		"admins": ["Portal Admins"],
		"resources": {
			"prod-db": {
				"group": "group:jit-prod-db",
				"maxDuration": "4h",
				"onCall": {"pagerdutySchedules": ["PABC123"], "maxDuration": "2h"},
				"devicePosture": "custom:jit_prod_db",
			},
			"staging": {
				"group": "group:jit-staging",
				"onCall": {"pagerdutySchedules": ["P1", "P2"], "endWithShift": false},
			},
		},
	}`)
	prod, staging := c.Resources["prod-db"], c.Resources["staging"]
	if want := (&OnCall{PagerDutySchedules: []string{"PABC123"}, MaxDuration: 2 * time.Hour, EndWithShift: true}); !reflect.DeepEqual(prod.OnCall, want) {
		t.Errorf("prod-db onCall = %+v, want %+v", prod.OnCall, want)
	}
	if prod.DevicePosture != "custom:jit_prod_db" {
		t.Errorf("devicePosture = %q", prod.DevicePosture)
	}
	if want := (&OnCall{PagerDutySchedules: []string{"P1", "P2"}, MaxDuration: 8 * time.Hour, EndWithShift: false}); !reflect.DeepEqual(staging.OnCall, want) {
		t.Errorf("staging onCall = %+v, want %+v (maxDuration defaults to the resource's)", staging.OnCall, want)
	}
	again, err := ParseCatalog("formatted", c.Format())
	if err != nil {
		t.Fatalf("the formatted catalog does not parse: %v\n%s", err, c.Format())
	}
	if !reflect.DeepEqual(again, c) {
		t.Errorf("Format then parse changed the catalog:\n%s", c.Format())
	}

	for _, tc := range []struct{ body, want string }{
		{`"devicePosture": "jit"`, "resources.r.devicePosture: \"jit\" is not a custom device posture attribute"},
		{`"devicePosture": "custom:has space"`, "resources.r.devicePosture"},
		{`"onCall": {"pagerdutySchedules": []}`, "resources.r.onCall.pagerdutySchedules: missing"},
		{`"onCall": {"pagerdutySchedules": ["P1"], "maxDuration": "9h"}`, "resources.r.onCall.maxDuration: 9h is longer than the resource's maxDuration 8h (the default)"},
		{`"onCall": {"pagerdutySchedules": ["P1"], "shift": true}`, "resources.r.onCall.shift: unknown key"},
		{`"onCall": {"pagerdutySchedules": ["bad id"]}`, "is not a PagerDuty schedule id"},
		{`"onCall": {"pagerdutySchedules": ["P1", "P1"]}`, "listed twice"},
	} {
		_, err := ParseCatalog("catalog.hujson", []byte(`{"resources": {"r": {"group": "group:jit-r", `+tc.body+`}}}`))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.body, err, tc.want)
		}
	}
}
