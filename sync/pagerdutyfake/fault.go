package pagerdutyfake

import (
	"net/http"
	"strconv"
	"time"
)

// Fault is a failure injected into the API routes (the page is never
// affected).
type Fault struct {
	// Status, when not zero, is answered instead of the real response:
	// 429 with the documented rate-limit headers and body, 500 with the
	// documented internal-error object (code 2000), any other status with
	// a plain-text body as a proxy in front of the API would send.
	Status int
	// RateLimitReset is the ratelimit-reset header of a 429, in seconds
	// ("REST API Rate Limits": the number of seconds until the limit is
	// reset). Default 20, the documentation's example.
	RateLimitReset int
	// Delay holds every affected request this long (real time) before
	// answering; a client that gives up first ends the wait.
	Delay time.Duration
	// Times is how many requests are affected; 0 means every request until
	// [Server.ClearFault].
	Times int
}

// SetFault injects f into the next requests.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// ClearFault ends an injected fault.
func (s *Server) ClearFault() {
	s.SetFault(Fault{})
}

// takeFaultLocked returns the fault for this request and counts it down.
func (s *Server) takeFaultLocked() Fault {
	f := s.fault
	if f.Status == 0 && f.Delay == 0 {
		return Fault{}
	}
	if f.Times > 0 {
		s.fault.Times--
		if s.fault.Times == 0 {
			s.fault = Fault{}
		}
	}
	return f
}

// apply waits and answers for the fault; it reports whether it answered.
func (f Fault) apply(w http.ResponseWriter, r *http.Request) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	switch {
	case f.Status == 0:
		return false
	case f.Status == http.StatusTooManyRequests:
		reset := f.RateLimitReset
		if reset == 0 {
			reset = 20
		}
		h := w.Header()
		h.Set("ratelimit-limit", "960")
		h.Set("ratelimit-remaining", "0")
		h.Set("ratelimit-reset", strconv.Itoa(reset))
		writeError(w, http.StatusTooManyRequests, 2020, "Rate Limit Exceeded")
	case f.Status == http.StatusInternalServerError:
		// "Errors": 2000 "An internal error has occurred. PagerDuty team
		// has been notified."
		writeError(w, f.Status, 2000, "An internal error has occurred. PagerDuty team has been notified.")
	default:
		http.Error(w, http.StatusText(f.Status), f.Status)
	}
	return true
}
