package web

import "github.com/labstack/echo/v4"

// changed answers a change made through the API: the error as it is, or
// v as JSON with status after waking the background loops (the reconciler,
// the sweeper, the notifier) and other replicas.
func (s *Server) changed(c echo.Context, status int, v any, err error) error {
	if err != nil {
		return err
	}
	s.wake()
	return c.JSON(status, v)
}
