package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// apiGetRequest shows one request to its requester, its approvers and the
// admins. Anyone else gets 404, the same answer as for an id that does not
// exist, so that request ids and their existence do not leak.
func (s *Server) apiGetRequest(c echo.Context) error {
	id, err := idParam(c, "request")
	if err != nil {
		return err
	}
	req, err := s.store.GetRequest(c.Request().Context(), id)
	if err != nil {
		return err
	}
	p, _ := person(c)
	if !s.opts.Catalog().MayView(p, req) {
		return httpError(http.StatusNotFound, "no request "+strconv.FormatInt(id, 10))
	}
	return c.JSON(http.StatusOK, req)
}
