package main

import (
	_ "github.com/alexedwards/scs/v2"
	_ "github.com/aymanbagabas/go-udiff"
	_ "github.com/chromedp/chromedp"
	_ "github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/glebarez/sqlite"
	_ "github.com/labstack/echo/v4"
	_ "github.com/okta/okta-sdk-golang/v2/okta"
	_ "github.com/pressly/goose/v3"
	_ "github.com/pressly/goose/v3/lock"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/tailscale/hujson"
	_ "golang.org/x/oauth2"
	_ "gorm.io/driver/postgres"
	_ "gorm.io/gorm"
	_ "tailscale.com/client/tailscale/v2"
)

func main() {}
