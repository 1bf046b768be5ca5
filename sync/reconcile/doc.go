// Package reconcile makes the managed groups of the tailnet policy equal to
// the desired state: the ACTIVE members of synced Okta groups plus the
// holders of running grants. It is level-triggered (every event only wakes
// it), applies the mass-removal brake, audits and undoes drift, and records
// what it confirmed through grants.Store.
//
// It imports grants, sync/policyfile and sync/tailnet; never gorm, web or
// sync/okta.
package reconcile
