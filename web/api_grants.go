package web

// revokeBody is the body of POST /api/v1/grants/{id}/revoke.
type revokeBody struct {
	Reason string `json:"reason"`
}

// directGrantBody is the body of POST /api/v1/grants.
type directGrantBody struct {
	Resource string `json:"resource"`
	User     string `json:"user"`
	Duration string `json:"duration"` // Go duration; "" = the resource's default
	Reason   string `json:"reason"`
}
