package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// storedConfig is what "access login" saves: the portal and a token for it.
type storedConfig struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// configPath is $XDG_CONFIG_HOME/access/config.json, or the same file under
// the operating system's user configuration directory.
func (c *cli) configPath() (string, error) {
	dir := c.getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		var err error
		if dir, err = os.UserConfigDir(); err != nil {
			return "", fmt.Errorf("finding the configuration directory: %w", err)
		}
	}
	return filepath.Join(dir, "access", "config.json"), nil
}

// loadConfig reads the stored configuration; a missing file is an empty one.
func (c *cli) loadConfig() (storedConfig, string, error) {
	var cfg storedConfig
	path, err := c.configPath()
	if err != nil {
		return cfg, "", err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, path, nil
	}
	if err != nil {
		return cfg, path, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg, path, fmt.Errorf("reading %s: %v (run \"access login\" again)", path, err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(c.stderr, "access: warning: %s holds a token and is readable by others; run chmod 600 %s\n", path, path)
	}
	return cfg, path, nil
}

// saveConfig writes the configuration with 0600 permissions in a 0700
// directory, replacing the file atomically.
func saveConfig(path string, cfg storedConfig) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("securing %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".config-*.json") // created 0600
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// connection is where requests go and the token they carry, with where
// each came from (for error messages).
type connection struct {
	url, token             string
	urlSource, tokenSource string
}

// connection resolves the portal and the token: ACCESS_URL and ACCESS_TOKEN
// override the stored configuration. The stored token goes only to the
// stored portal: with ACCESS_URL naming another one, ACCESS_TOKEN is needed.
func (c *cli) connection() (connection, error) {
	conn := connection{
		url: c.getenv("ACCESS_URL"), urlSource: "ACCESS_URL",
		token: strings.TrimSpace(c.getenv("ACCESS_TOKEN")), tokenSource: "ACCESS_TOKEN",
	}
	var err error
	if conn.url != "" {
		if conn.url, err = normalizeURL(conn.url); err != nil {
			return conn, fmt.Errorf("ACCESS_URL: %w", err)
		}
	}
	if conn.url != "" && conn.token != "" {
		return conn, nil // the stored configuration is not needed
	}
	stored, path, err := c.loadConfig()
	if err != nil {
		return conn, err
	}
	storedURL := ""
	if stored.URL != "" {
		if storedURL, err = normalizeURL(stored.URL); err != nil {
			return conn, fmt.Errorf("%s: %w", path, err)
		}
	}
	if conn.url == "" {
		conn.url, conn.urlSource = storedURL, path
	}
	if conn.url == "" {
		return conn, errors.New(`no portal configured: run "access login --url URL" or set ACCESS_URL`)
	}
	if conn.token == "" && stored.Token != "" && conn.url == storedURL {
		conn.token, conn.tokenSource = stored.Token, path
	}
	if conn.token == "" {
		if conn.url != storedURL && stored.Token != "" {
			return conn, fmt.Errorf(`no API token for %s (the stored one is for %s): set ACCESS_TOKEN or run "access login --url %s"`, conn.url, storedURL, conn.url)
		}
		return conn, errors.New(`no API token: run "access login" or set ACCESS_TOKEN`)
	}
	return conn, nil
}

// normalizeURL checks that s is an http(s) URL and drops a trailing slash.
func normalizeURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http:// or https:// URL", s)
	}
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimRight(u.String(), "/"), nil
}
