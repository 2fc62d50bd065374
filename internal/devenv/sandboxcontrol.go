package devenv

import (
	"context"
	"net/http"

	"github.com/igconnect/igconnect/internal/sandbox"
)

// Issued returns every token, code and app secret the sandbox has issued or knows (GET
// /sandbox/issued), for a leak scan.
func (c *SandboxClient) Issued(ctx context.Context) (sandbox.IssuedSecrets, error) {
	var out sandbox.IssuedSecrets
	err := c.do(ctx, http.MethodGet, "/sandbox/issued", nil, &out, http.StatusOK)
	return out, err
}

// AddAccount adds an account that can log in (blank fields are filled by the sandbox) and
// returns it as stored.
func (c *SandboxClient) AddAccount(ctx context.Context, a sandbox.Account) (sandbox.Account, error) {
	var out sandbox.Account
	err := c.do(ctx, http.MethodPost, "/sandbox/accounts", a, &out, http.StatusCreated)
	return out, err
}

// ChangePassword invalidates every token of the account (a user ID, app-scoped ID or
// username), as an Instagram password change does: Graph calls with them answer 190/460.
func (c *SandboxClient) ChangePassword(ctx context.Context, account string) error {
	return c.do(ctx, http.MethodPost, "/sandbox/accounts/password-change", map[string]string{"account": account},
		nil, http.StatusNoContent)
}
