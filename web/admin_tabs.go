package web

import "strings"

// adminTabs is the admin tab bar for the page at path: every admin
// section, the one path is in marked current (the longest matching
// section, so /admin/catalog/resources/x is in the catalog). The layout
// shows it above every admin page.
func adminTabs(path string) []adminNavLink {
	current := ""
	for _, l := range adminSections {
		if (path == l.Href || strings.HasPrefix(path, l.Href+"/")) && len(l.Href) > len(current) {
			current = l.Href
		}
	}
	nav := make([]adminNavLink, len(adminSections))
	for i, l := range adminSections {
		l.Current = l.Href == current
		nav[i] = l
	}
	return nav
}

// isAdminPath reports whether path is one of the admin pages.
func isAdminPath(path string) bool { return path == "/admin" || strings.HasPrefix(path, "/admin/") }
