package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// createRequestBody is the body of POST /api/v1/requests.
type createRequestBody struct {
	Resource string `json:"resource"`
	Duration string `json:"duration"` // Go duration; "" = the resource's default
	Reason   string `json:"reason"`
}

// decisionBody is the body of POST /api/v1/requests/{id}/approve and /deny.
type decisionBody struct {
	Comment string `json:"comment"`
}

// decideFunc is (*grants.Store).ApproveRequest or DenyRequest.
type decideFunc func(s *grants.Store, ctx context.Context, cat *grants.Catalog, id int64, by *grants.Person, comment string, now time.Time) (*grants.Request, error)

func (s *Server) decideRequest(c echo.Context, decide decideFunc) error {
	id, err := idParam(c, "request")
	if err != nil {
		return err
	}
	var body decisionBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	p, _ := person(c)
	req, err := decide(s.store, c.Request().Context(), s.opts.Catalog(), id, p, body.Comment, s.now())
	if err != nil {
		return err
	}
	s.wake()
	return c.JSON(http.StatusOK, req)
}

// idParam parses the positive id in the path.
func idParam(c echo.Context, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpError(http.StatusBadRequest, what+" id must be a positive whole number, not "+strconv.Quote(c.Param("id")))
	}
	return id, nil
}

// intParam parses an optional positive query parameter, at most maxV.
func intParam(c echo.Context, name string, def, maxV int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > maxV {
		return 0, httpError(http.StatusBadRequest, name+" must be a whole number from 1 to "+strconv.Itoa(maxV)+", not "+strconv.Quote(v))
	}
	return n, nil
}

// parseDuration parses a requested duration: "" is the resource's default
// (0); anything else must be a positive Go duration.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, httpError(http.StatusBadRequest, "invalid duration "+strconv.Quote(s)+": use Go durations such as \"90m\" or \"2h\"")
	}
	if d <= 0 {
		return 0, httpError(http.StatusBadRequest, "duration "+strconv.Quote(s)+" must be positive")
	}
	return d, nil
}

// parseTime parses an optional RFC 3339 query parameter.
func parseTime(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, httpError(http.StatusBadRequest, name+" must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not "+strconv.Quote(v))
	}
	return t, nil
}
