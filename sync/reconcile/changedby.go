package reconcile

// RefreshBy is Refresh for a change whose author is known (a webhook's
// actor): drift the next fresh read finds is audited with changedBy set to
// actor. An empty actor is plain Refresh.
func (r *Reconciler) RefreshBy(actor string) {
	if actor != "" {
		r.mu.Lock()
		r.changedBy = actor
		r.mu.Unlock()
	}
	r.Refresh()
}

// takeChangedBy returns and forgets who changed the policy outside the
// portal, when known.
func (r *Reconciler) takeChangedBy() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	by := r.changedBy
	r.changedBy = ""
	return by
}
