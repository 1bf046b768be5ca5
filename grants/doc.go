// Package grants is the portal's domain and its store: the catalog (parse,
// format, edit, diff), requests and their approval rules, grants, the
// expiry sweeper, offboarding, notifications, the hash-chained audit log
// and API tokens.
//
// It is the only package that touches the database: Store (store.go) has
// one method set per entity, one file each, named for what callers want;
// dialect differences and lock keys live here and in grants/database. It
// must not import web, cmd or sync: the outside world reaches it through
// small interfaces (DeviceDeleter) and plain values.
package grants
