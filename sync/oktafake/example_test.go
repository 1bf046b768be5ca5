package oktafake_test

import (
	"context"
	"fmt"
	"log"

	"github.com/accessportal/portal/sync/oktafake"
	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// Start a fake org on loopback, give it people and groups, and read them
// back with the real Okta SDK.
func ExampleStart() {
	org, url, stop, err := oktafake.Start(oktafake.Options{APIToken: "demo-token"})
	if err != nil {
		log.Fatal(err)
	}
	defer stop()

	eng := org.AddGroup("Engineering", "People who build things")
	alice := org.AddUser(oktafake.User{Login: "alice@example.com", FirstName: "Alice", LastName: "Liddell"})
	bob := org.AddUser(oktafake.User{Login: "bob@example.com", FirstName: "Bob", LastName: "Builder"})
	_ = org.AddMember(eng, alice)
	_ = org.AddMember(eng, bob)
	_ = org.SetUserStatus(bob, oktafake.StatusDeprovisioned) // Okta keeps him in the group

	ctx := context.Background()
	_, client, err := okta.NewClient(ctx, okta.WithOrgUrl(url), okta.WithToken("demo-token"),
		okta.WithCache(false), okta.WithTestingDisableHttpsCheck(true))
	if err != nil {
		log.Fatal(err)
	}
	members, _, err := client.Group.ListGroupUsers(ctx, eng, query.NewQueryParams(query.WithLimit(200)))
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range members {
		fmt.Println((*m.Profile)["login"], m.Status)
	}
	// Output:
	// alice@example.com ACTIVE
	// bob@example.com DEPROVISIONED
}
