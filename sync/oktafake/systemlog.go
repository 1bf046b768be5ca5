package oktafake

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The System Log, as Okta documents it in "System Log query"
// (https://developer.okta.com/docs/reference/system-log-query/) and the
// listLogEvents operation of the Management API
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog/):
//
//   - every change the fake makes is one LogEvent, in the order it was
//     committed (the "persistence time");
//   - a polling request (no until, sortOrder ASCENDING) is ordered by
//     persistence and has infinitely many pages: the rel="next" Link is always
//     there, even on an empty page;
//   - any other request is ordered and filtered by published and its last
//     page has no next link;
//   - limit is 0..1000 (default 100), since defaults to 7 days before until,
//     until to now; since more than 180 days ago is refused and events older
//     than 90 days are not returned (data retention);
//   - after is an opaque cursor found only in next links. Okta's own next
//     links carry since and after together (the documented example), so
//     after wins over since rather than being refused.
const (
	logDefaultLimit   = 100
	logMaxLimit       = 1000
	logDefaultWindow  = 7 * 24 * time.Hour
	logMaxSinceAge    = 180 * 24 * time.Hour
	logRetention      = 90 * 24 * time.Hour
	logSortAscending  = "ASCENDING"
	logSortDescending = "DESCENDING"
)

// logEntry is one committed System Log event.
type logEntry struct {
	seq   int64
	event Event
}

// emitLocked commits an event about a state change to the System Log and
// queues it for every event hook subscribed to its type.
func (s *Server) emitLocked(eventType string, targets ...Target) Event {
	e := Event{EventType: eventType, Target: targets}
	s.fillEvent(&e)
	s.appendLogLocked(e)
	s.queueHooksLocked(e)
	return e
}

// appendLogLocked commits an event to the System Log only (no hook
// delivery), as Okta does for events that are not hook-eligible.
func (s *Server) appendLogLocked(e Event) {
	s.logSeq++
	s.log = append(s.log, logEntry{seq: s.logSeq, event: e})
}

// LogEvents returns every event in the System Log, in the order committed.
func (s *Server) LogEvents() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.log))
	for i, e := range s.log {
		out[i] = e.event
	}
	return out
}

// logQuery is a parsed GET /api/v1/logs request.
type logQuery struct {
	since, until time.Time
	untilGiven   bool
	after        int64
	afterGiven   bool
	limit        int
	descending   bool
	match        func(Event) bool
	keywords     []string
}

func (q logQuery) polling() bool { return !q.untilGiven && !q.descending }

// listLogs is GET /api/v1/logs.
func (s *Server) listLogs(w http.ResponseWriter, r *http.Request) {
	q, code, err := s.parseLogQuery(r)
	if err != nil {
		writeOktaError(w, http.StatusBadRequest, code, err.Error(), causesOf(err)...)
		return
	}
	s.mu.Lock()
	events, next, more := s.selectLogLocked(q)
	base := s.baseURLLocked(r)
	s.mu.Unlock()

	self := base + r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	w.Header().Add("Link", fmt.Sprintf("<%s>; rel=\"self\"", self))
	if more {
		nq := r.URL.Query()
		nq.Set("after", encodeLogCursor(next))
		nq.Set("limit", strconv.Itoa(q.limit))
		w.Header().Add("Link", fmt.Sprintf("<%s%s?%s>; rel=\"next\"", base, r.URL.Path, nq.Encode()))
	}
	writeJSON(w, http.StatusOK, events)
}

// validationError is an E0000001 with Okta's per-parameter causes.
type validationError struct{ causes []string }

func (v validationError) Error() string {
	return "Api validation failed: " + strings.Join(v.causes, ". ")
}

func causesOf(err error) []string {
	var v validationError
	if errors.As(err, &v) {
		return v.causes
	}
	return nil
}

func (s *Server) parseLogQuery(r *http.Request) (logQuery, string, error) {
	v := r.URL.Query()
	now := s.now()
	q := logQuery{limit: logDefaultLimit}
	var causes []string
	parseTime := func(name string) (time.Time, bool) {
		raw := v.Get(name)
		if raw == "" {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			causes = append(causes,
				name+": The date format in your query is not recognized. Please enter dates using ISO8601 string format.",
				name+": must be a valid date-time or empty.")
			return time.Time{}, false
		}
		return t, true
	}
	since, sinceGiven := parseTime("since")
	q.until, q.untilGiven = parseTime("until")
	if raw := v.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || n > logMaxLimit {
			causes = append(causes, "limit: must be an integer between 0 and 1000")
		}
		q.limit = n
	}
	switch v.Get("sortOrder") {
	case "", logSortAscending:
	case logSortDescending:
		q.descending = true
	default:
		causes = append(causes, "sortOrder: must be ASCENDING or DESCENDING")
	}
	if raw := v.Get("after"); raw != "" {
		seq, ok := decodeLogCursor(raw)
		if !ok {
			causes = append(causes, "after: is not a valid cursor")
		}
		q.after, q.afterGiven = seq, true
	}
	if len(causes) > 0 {
		return q, "E0000001", validationError{causes: causes}
	}
	if !q.untilGiven {
		q.until = now
	}
	q.since = q.until.Add(-logDefaultWindow)
	if sinceGiven {
		if now.Sub(since) > logMaxSinceAge {
			return q, "E0000053", errors.New("Invalid parameter: The since parameter is over 180 days prior to the current day.")
		}
		q.since = since
	}
	if f := v.Get("filter"); f != "" {
		match, err := parseLogFilter(f)
		if err != nil {
			return q, "E0000053", fmt.Errorf("Invalid filter '%s': %v", f, err)
		}
		q.match = match
	}
	for _, k := range strings.Fields(v.Get("q")) {
		if len(k) > 40 {
			return q, "E0000001", validationError{causes: []string{"'q': Freeform search cannot contain items longer than 40 characters. Please shorten the items in your search or use an advanced filter to query by specific fields."}}
		}
		q.keywords = append(q.keywords, strings.ToLower(k))
	}
	return q, "", nil
}

// selectLogLocked returns one page of events, the cursor of the next page,
// and whether there is a next page.
func (s *Server) selectLogLocked(q logQuery) (events []Event, next int64, more bool) {
	oldest := s.now().Add(-logRetention)
	var cands []logEntry
	for _, e := range s.log {
		p := e.event.Published
		if p.Before(oldest) || (q.untilGiven && !p.Before(q.until)) || (!q.afterGiven && p.Before(q.since)) {
			continue
		}
		if q.match != nil && !q.match(e.event) || !matchesKeywords(e.event, q.keywords) {
			continue
		}
		cands = append(cands, e)
	}
	if !q.polling() {
		slices.SortStableFunc(cands, func(a, b logEntry) int {
			c := a.event.Published.Compare(b.event.Published)
			if q.descending {
				return -c
			}
			return c
		})
	}
	start := logStartLocked(cands, q)
	end := min(start+q.limit, len(cands))
	events = []Event{}
	for _, e := range cands[start:end] {
		events = append(events, e.event)
	}
	switch {
	case end > start:
		next = cands[end-1].seq
	case q.afterGiven:
		next = q.after
	default:
		next = s.seqBeforeLocked(q.since)
	}
	more = q.polling() || end < len(cands)
	return events, next, more
}

// logStartLocked is the index of the first candidate after the cursor.
func logStartLocked(cands []logEntry, q logQuery) int {
	if !q.afterGiven {
		return 0
	}
	if q.polling() {
		i, _ := slices.BinarySearchFunc(cands, q.after+1, func(e logEntry, seq int64) int { return cmp.Compare(e.seq, seq) })
		return i
	}
	for i, e := range cands {
		if e.seq == q.after {
			return i + 1
		}
	}
	return len(cands)
}

// seqBeforeLocked is the last sequence number committed before t: the
// cursor of an empty polling page, so the next poll sees everything after.
func (s *Server) seqBeforeLocked(t time.Time) int64 {
	var seq int64
	for _, e := range s.log {
		if !e.event.Published.Before(t) {
			break
		}
		seq = e.seq
	}
	return seq
}

func matchesKeywords(e Event, keywords []string) bool {
	if len(keywords) == 0 {
		return true
	}
	hay := []string{e.EventType, e.DisplayMessage, e.Actor.ID, e.Actor.AlternateID, e.Actor.DisplayName}
	for _, t := range e.Target {
		hay = append(hay, t.ID, t.AlternateID, t.DisplayName)
	}
	text := strings.ToLower(strings.Join(hay, " "))
	for _, k := range keywords {
		if !strings.Contains(text, k) {
			return false
		}
	}
	return true
}

// encodeLogCursor makes the opaque after token of a position in the log.
func encodeLogCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("log:" + strconv.FormatInt(seq, 10)))
}

func decodeLogCursor(token string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, false
	}
	raw, ok := strings.CutPrefix(string(b), "log:")
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseInt(raw, 10, 64)
	return seq, err == nil && seq >= 0
}

// logFilterAttrs are the LogEvent attributes a filter may name. published
// is refused: "SCIM filter expressions can't use the published attribute".
var logFilterAttrs = []string{
	"uuid", "eventType", "version", "severity", "displayMessage", "legacyEventType",
	"actor.id", "actor.type", "actor.alternateId", "actor.displayName",
	"target.id", "target.type", "target.alternateId", "target.displayName",
	"outcome.result", "transaction.id",
}

// parseLogFilter compiles a System Log filter: eq, ne, sw, co, ew, pr, gt,
// ge, lt, le joined with and/or, string comparisons exact; a target
// attribute matches when any target matches.
func parseLogFilter(src string) (func(Event) bool, error) {
	e, err := parseExpr(src)
	if err != nil {
		return nil, err
	}
	if err := checkLogAttrs(e); err != nil {
		return nil, err
	}
	return func(ev Event) bool { return e.eval(logAttr(ev), false) }, nil
}

func checkLogAttrs(e expr) error {
	switch e := e.(type) {
	case logical:
		if err := checkLogAttrs(e.left); err != nil {
			return err
		}
		return checkLogAttrs(e.right)
	case comparison:
		if !slices.Contains(logFilterAttrs, e.attr) {
			return fmt.Errorf("field is not valid: %s", e.attr)
		}
	}
	return nil
}

func logAttr(e Event) attrGetter {
	return func(name string) (attrValue, bool) {
		if field, ok := strings.CutPrefix(name, "target."); ok {
			var all []string
			for _, t := range e.Target {
				all = append(all, targetField(t, field))
			}
			return attrValue{all: all, multi: true}, true
		}
		if field, ok := strings.CutPrefix(name, "actor."); ok {
			return attrValue{str: targetField(e.Actor, field)}, true
		}
		switch name {
		case "uuid":
			return attrValue{str: e.UUID}, true
		case "eventType":
			return attrValue{str: e.EventType}, true
		case "version":
			return attrValue{str: e.Version}, true
		case "severity":
			return attrValue{str: e.Severity}, true
		case "displayMessage":
			return attrValue{str: e.DisplayMessage}, true
		case "outcome.result":
			return attrValue{str: e.outcome()}, true
		case "transaction.id":
			return attrValue{str: e.transactionID}, true
		}
		return attrValue{}, true // legacyEventType: always null here
	}
}

func targetField(t Target, field string) string {
	switch field {
	case "id":
		return t.ID
	case "type":
		return t.Type
	case "alternateId":
		return t.AlternateID
	case "displayName":
		return t.DisplayName
	}
	return ""
}
