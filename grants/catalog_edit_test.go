package grants

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestApplyGroupEdits(t *testing.T) {
	cur := contractCatalog()
	before := cur.Format()

	moved, err := cur.Apply(CatalogEdit{Kind: EditGroup, Key: "group:sre", Okta: "Site Reliability"})
	if err != nil {
		t.Fatal(err)
	}
	if moved.Groups["group:sre"] != "Site Reliability" || moved.Groups["group:eng"] != "Engineering" {
		t.Errorf("groups after moving group:sre: %v", moved.Groups)
	}
	if string(cur.Format()) != string(before) {
		t.Error("Apply changed the catalog it was called on")
	}

	emptied, err := cur.Apply(CatalogEdit{Kind: EditGroupRemove, Key: "group:sre", Removal: RemovalEmpty})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := emptied.Groups["group:sre"]; ok || !slices.Equal(emptied.KeepEmpty, []string{"group:sre"}) {
		t.Errorf("after emptying: groups %v, keepEmpty %v", emptied.Groups, emptied.KeepEmpty)
	}
	// Syncing it again takes it out of keepEmpty.
	again, err := emptied.Apply(CatalogEdit{Kind: EditGroup, Key: "group:sre", Adding: true, Okta: "SRE"})
	if err != nil {
		t.Fatal(err)
	}
	if again.KeepEmpty != nil || again.Groups["group:sre"] != "SRE" {
		t.Errorf("after syncing again: groups %v, keepEmpty %v", again.Groups, again.KeepEmpty)
	}
	released, err := emptied.Apply(CatalogEdit{Kind: EditKeepEmptyRemove, Key: "group:sre"})
	if err != nil {
		t.Fatal(err)
	}
	if len(released.KeepEmpty) != 0 || slices.Contains(released.ManagedGroups(), "group:sre") {
		t.Errorf("group:sre still managed: %v", released.ManagedGroups())
	}

	for _, tc := range []struct {
		name  string
		edit  CatalogEdit
		field string
		msg   string
	}{
		{"adding a synced group", CatalogEdit{Kind: EditGroup, Key: "group:eng", Adding: true, Okta: "X"}, "group",
			`groups.group:eng: group:eng already follows Okta group "Engineering"; change that mapping instead`},
		{"no removal choice", CatalogEdit{Kind: EditGroupRemove, Key: "group:eng"}, "removal",
			"choose whether to empty group:eng or to leave it with its current members"},
		{"a gone group", CatalogEdit{Kind: EditGroup, Key: "group:ops", Okta: "Ops"}, "",
			"group:ops is no longer a synced group of the catalog"},
		{"a bad Tailscale group", CatalogEdit{Kind: EditGroup, Key: "eng", Adding: true, Okta: "Ops"}, "group", ""},
		{"an unknown kind", CatalogEdit{Kind: "rename", Key: "group:eng"}, "", `unknown catalog change "rename"`},
	} {
		_, err := cur.Apply(tc.edit)
		var ee *CatalogEditError
		if !errors.As(err, &ee) || !errors.Is(err, ErrInvalid) || ee.Field != tc.field || (tc.msg != "" && ee.Msg != tc.msg) {
			t.Errorf("%s: %#v", tc.name, err)
		}
	}
}

func TestApplyResourceEdits(t *testing.T) {
	cur := contractCatalog()
	text := ResourceText{
		Description: "Staging", Group: "group:jit-staging", Eligible: []string{"Engineering"},
		Approvals: "2", Approvers: []string{"Security", "SRE"}, MaxDuration: "2h", RequireReason: true,
	}
	added, err := cur.Apply(CatalogEdit{Kind: EditResource, Key: "staging", Adding: true, Resource: text})
	if err != nil {
		t.Fatal(err)
	}
	want := Resource{Name: "staging", Description: "Staging", Group: "group:jit-staging", Eligible: []string{"Engineering"},
		Approvers: []string{"Security", "SRE"}, Approvals: 2, MaxDuration: 2 * time.Hour, DefaultDuration: time.Hour, RequireReason: true}
	if got := added.Resources["staging"]; !reflect.DeepEqual(got, want) {
		t.Errorf("added resource\n got %+v\nwant %+v", got, want)
	}

	retired, err := added.Apply(CatalogEdit{Kind: EditResourceRetire, Key: "staging"})
	if err != nil || !retired.Resources["staging"].Retired {
		t.Fatalf("retiring: %v %+v", err, retired)
	}
	// Editing a retired resource keeps it retired; restoring is its own edit.
	text.Description = "Staging cluster"
	edited, err := retired.Apply(CatalogEdit{Kind: EditResource, Key: "staging", Resource: text})
	if err != nil || !edited.Resources["staging"].Retired || edited.Resources["staging"].Description != "Staging cluster" {
		t.Fatalf("editing a retired resource: %v %+v", err, edited.Resources["staging"])
	}
	restored, err := edited.Apply(CatalogEdit{Kind: EditResourceRestore, Key: "staging"})
	if err != nil || restored.Resources["staging"].Retired {
		t.Fatalf("restoring: %v", err)
	}

	for _, tc := range []struct {
		name  string
		edit  CatalogEdit
		field string
	}{
		{"a taken name", CatalogEdit{Kind: EditResource, Key: "prod-db", Adding: true, Resource: text}, "name"},
		{"a bad duration", CatalogEdit{Kind: EditResource, Key: "x", Adding: true, Resource: ResourceText{Group: "group:jit-x", MaxDuration: "forever"}}, "maxDuration"},
		{"a fractional approval count", CatalogEdit{Kind: EditResource, Key: "x", Adding: true, Resource: ResourceText{Group: "group:jit-x", Approvals: "1.5"}}, "approvals"},
		{"a word for approvals", CatalogEdit{Kind: EditResource, Key: "x", Adding: true, Resource: ResourceText{Group: "group:jit-x", Approvals: "two"}}, "approvals"},
		{"a group taken by a synced group", CatalogEdit{Kind: EditResource, Key: "x", Adding: true, Resource: ResourceText{Group: "group:eng"}}, "group"},
		{"a gone resource", CatalogEdit{Kind: EditResourceRetire, Key: "gone"}, ""},
	} {
		_, err := cur.Apply(tc.edit)
		var ee *CatalogEditError
		if !errors.As(err, &ee) || ee.Field != tc.field || ee.Msg == "" {
			t.Errorf("%s: %#v", tc.name, err)
		}
	}
}

func TestChangesAndVersions(t *testing.T) {
	cur := contractCatalog()
	next, err := cur.Apply(CatalogEdit{Kind: EditGroupRemove, Key: "group:sre", Removal: RemovalLeave})
	if err != nil {
		t.Fatal(err)
	}
	r := ResourceTextOf(cur.Resources["prod-db"])
	r.MaxDuration = "8h"
	r.Approvers = nil
	if next, err = next.Apply(CatalogEdit{Kind: EditResource, Key: "prod-db", Resource: r}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`group:sre stops following "SRE" and is no longer managed: its current members stay.`,
		"prod-db: approvers Security → —; maxDuration 4h → 8h.",
	}
	if got := Changes(cur, next); !slices.Equal(got, want) {
		t.Errorf("Changes = %q, want %q", got, want)
	}
	if got := Changes(cur, cur); len(got) != 0 {
		t.Errorf("no change described as %q", got)
	}
	if cur.Version(EditResource, "prod-db") == next.Version(EditResource, "prod-db") {
		t.Error("a changed resource kept its version")
	}
	if cur.Version(EditGroup, "group:eng") != next.Version(EditGroup, "group:eng") || next.Version(EditGroup, "group:sre") != "" {
		t.Error("group versions do not follow the change")
	}
	if got := DescribeResource(Resource{Group: "group:x", Retired: true}); got[len(got)-1].String() != "retired: true" {
		t.Errorf("retired resource described as %v", got)
	}
}
