package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// CookieName is the cookie that carries the dashboard token after login.
const CookieName = "sealfleet_token"

// PermRead is the permission every dashboard page and endpoint needs.
const PermRead = "read"

var loginTmpl = template.Must(template.ParseFS(staticFS, "static/login.html"))

// tokenFrom returns the request's token: the cookie, or else an "Authorization: Bearer" header (for scripts).
func tokenFrom(r *http.Request) string {
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		return c.Value
	}
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(h)
	}
	return ""
}

// checkToken returns nil if the token grants read.
func (s *Server) checkToken(token string) error {
	if token == "" {
		return errors.New("no token")
	}
	perms, err := s.auth(token)
	if err != nil {
		return fmt.Errorf("invalid token: %w", err)
	}
	if !slices.Contains(perms, PermRead) {
		return fmt.Errorf("token lacks the %q permission (has %v)", PermRead, perms)
	}
	return nil
}

// requireRead serves next only to requests with a read token. Pages without one are redirected to the login
// page; API calls get 401.
func (s *Server) requireRead(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkToken(tokenFrom(r)); err != nil {
			if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/static/") {
				w.Header().Set("WWW-Authenticate", `Bearer realm="sealfleet"`)
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized: " + err.Error()})
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type loginView struct{ Error string }

// loginPage shows the sign-in form, or sends a browser that already holds a good token to the dashboard.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil && s.checkToken(c.Value) == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderLogin(w, http.StatusOK, "")
}

func (s *Server) renderLogin(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err := loginTmpl.Execute(w, loginView{Error: msg}); err != nil {
		s.log.Warn("rendering login page", "err", err)
	}
}

// validCookieToken reports whether a token can travel in a cookie unchanged (JWTs always can).
func validCookieToken(t string) bool {
	for _, c := range []byte(t) {
		if c <= ' ' || c >= 0x7f || c == '"' || c == ';' || c == '\\' || c == ',' {
			return false
		}
	}
	return t != ""
}

// login checks the posted token and, if it grants read, stores it in an HttpOnly, SameSite=Strict cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, http.StatusBadRequest, "could not read the form: "+err.Error())
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	if !validCookieToken(token) {
		s.renderLogin(w, http.StatusBadRequest, "token: paste an API token (sealfleet auth create-token --perm read)")
		return
	}
	if err := s.checkToken(token); err != nil {
		s.log.Info("dashboard login refused", "remote", r.RemoteAddr, "err", err)
		s.renderLogin(w, http.StatusUnauthorized, "This token was refused: "+err.Error())
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout clears the token cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
