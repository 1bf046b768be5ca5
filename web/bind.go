package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants/nesting"
)

// bindJSON decodes a JSON body strictly: unknown fields and trailing data are
// 400s with a message that says what is wrong. An empty body decodes to the
// zero value.
func bindJSON(c echo.Context, v any) error {
	body := c.Request().Body
	if body == nil {
		return nil
	}
	raw, err := io.ReadAll(body)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return httpError(http.StatusRequestEntityTooLarge, "request body too large")
	}
	if err != nil {
		return fmt.Errorf("reading the request body: %w", err)
	}
	if err := nesting.Check(raw, nesting.Max); err != nil {
		return httpError(http.StatusBadRequest, "invalid JSON body: "+err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return httpError(http.StatusRequestEntityTooLarge, "request body too large")
		}
		msg := err.Error()
		if strings.HasPrefix(msg, "json: ") {
			msg = strings.TrimPrefix(msg, "json: ")
		}
		return httpError(http.StatusBadRequest, "invalid JSON body: "+msg)
	}
	if dec.More() {
		return httpError(http.StatusBadRequest, "invalid JSON body: more than one JSON value")
	}
	return nil
}
