// Package okta reads the Okta directory through okta-sdk-golang v2 (users,
// groups, the memberships of the groups the catalog names) with a retrying,
// rate-limit-aware transport, keeps the directory snapshot in grants.Store
// equal to it (the poller), and turns stored event hook deliveries into
// re-reads of the users they name (the event processor).
//
// It writes the database only through grants.Store and never imports gorm,
// web or the other sync packages.
package okta
