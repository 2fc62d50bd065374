package instagram

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// readResponse returns a recorded body from testdata/responses.
func readResponse(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "responses", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// body returns a recorded body when the table names a file, else the
// literal text.
func body(t testing.TB, s string) []byte {
	t.Helper()
	if strings.HasSuffix(s, ".json") || strings.HasSuffix(s, ".html") {
		return readResponse(t, s)
	}
	return []byte(s)
}

var allScopes = []string{
	"instagram_business_basic", "instagram_business_manage_messages",
	"instagram_business_manage_comments", "instagram_business_content_publish",
}

func TestDecodeShortLived(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    ShortLivedToken
		wantErr string
	}{
		{
			name: "flat, numeric user_id above 2^53 stays exact",
			body: "code_exchange_flat_numeric.json",
			want: ShortLivedToken{AccessToken: "IGAA2e0uoy3ZAZABZA...", UserID: "27640875392278831", Permissions: []string{"instagram_business_basic"}},
		},
		{
			name: "endpoint reference: flat, no permissions",
			body: "code_exchange_reference.json",
			want: ShortLivedToken{AccessToken: "IGQVJ...", UserID: "17841405793187218"},
		},
		{
			name: "guide: data[] wrapped, permissions as comma string",
			body: "code_exchange_guide_wrapped.json",
			want: ShortLivedToken{AccessToken: "EAACEdEose0...", UserID: "1020...", Permissions: allScopes},
		},
		{
			name: "restfb fixture: string user_id, permissions array",
			body: "code_exchange_restfb.json",
			want: ShortLivedToken{AccessToken: "EAACEdEose0...", UserID: "1234567890", Permissions: allScopes},
		},
		{
			name: "data as an object",
			body: `{"data":{"access_token":"IGAAx","user_id":1}}`,
			want: ShortLivedToken{AccessToken: "IGAAx", UserID: "1"},
		},
		{
			name: "top-level token wins over data",
			body: `{"access_token":"IGAAtop","data":[{"access_token":"IGAAinner"}]}`,
			want: ShortLivedToken{AccessToken: "IGAAtop"},
		},
		{
			name: "permissions empty string is an empty list, not absent",
			body: `{"access_token":"IGAAx","permissions":""}`,
			want: ShortLivedToken{AccessToken: "IGAAx", Permissions: []string{}},
		},
		{
			name: "permissions with spaces and empty entries",
			body: `{"access_token":"IGAAx","permissions":" a, ,b c "}`,
			want: ShortLivedToken{AccessToken: "IGAAx", Permissions: []string{"a", "b", "c"}},
		},
		{
			name: "permissions null",
			body: `{"access_token":"IGAAx","permissions":null,"user_id":null}`,
			want: ShortLivedToken{AccessToken: "IGAAx"},
		},
		{
			name: "UTF-8 BOM and whitespace",
			body: "\xef\xbb\xbf \n{\"access_token\":\"IGAAx\"}\n",
			want: ShortLivedToken{AccessToken: "IGAAx"},
		},
		{name: "empty body", body: "", wantErr: "empty response body"},
		{name: "whitespace body", body: " \n\t", wantErr: "empty response body"},
		{name: "truncated", body: `{"access_token":"IGAAx","user_id":2764`, wantErr: "truncated JSON"},
		{name: "not JSON", body: `<html>ok</html>`, wantErr: "invalid JSON at offset 1"},
		{name: "trailing garbage", body: `{"access_token":"IGAAx"} x`, wantErr: "invalid JSON"},
		{name: "JSON null", body: `null`, wantErr: "JSON null"},
		{name: "array", body: `[{"access_token":"IGAAx"}]`, wantErr: "JSON array, want an object"},
		{name: "missing access_token", body: `{"user_id":1}`, wantErr: "no access_token"},
		{name: "empty access_token", body: `{"access_token":""}`, wantErr: "access_token is empty"},
		{name: "access_token not a string", body: `{"access_token":12}`, wantErr: "access_token is not a string"},
		{name: "access_token with a newline", body: `{"access_token":"IGAA\nx"}`, wantErr: "whitespace or control"},
		{name: "empty data list", body: `{"data":[]}`, wantErr: "data is an empty list"},
		{name: "data of strings", body: `{"data":["x"]}`, wantErr: "want an object"},
		{name: "data scalar", body: `{"data":1}`, wantErr: "neither a list nor an object"},
		{name: "fractional user_id", body: `{"access_token":"IGAAx","user_id":1.5}`, wantErr: "user_id is neither"},
		{name: "negative user_id", body: `{"access_token":"IGAAx","user_id":-1}`, wantErr: "user_id is neither"},
		{name: "exponent user_id", body: `{"access_token":"IGAAx","user_id":2.7e16}`, wantErr: "user_id is neither"},
		{name: "permissions object", body: `{"access_token":"IGAAx","permissions":{"a":1}}`, wantErr: "permissions is neither"},
		{name: "permissions numbers", body: `{"access_token":"IGAAx","permissions":[1]}`, wantErr: "permissions is neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeShortLived(body(t, tt.body))
			checkDecode(t, got, tt.want, err, tt.wantErr)
		})
	}
}

func TestDecodeLongLived(t *testing.T) {
	const sixtyDays = 5184000 * time.Second
	tests := []struct {
		name    string
		body    string
		want    LongLivedToken
		wantErr string
	}{
		{
			name: "guide",
			body: "long_lived_guide.json",
			want: LongLivedToken{AccessToken: "EAACEdEose0...", TokenType: "bearer", ExpiresIn: 5183944 * time.Second},
		},
		{
			name: "sandbox",
			body: "long_lived_sandbox.json",
			want: LongLivedToken{AccessToken: "IGAAsandboxlong", TokenType: "bearer", ExpiresIn: sixtyDays},
		},
		{
			name: "refresh with string expires_in and permissions",
			body: "refresh_with_permissions.json",
			want: LongLivedToken{AccessToken: "IGAAsandboxnew", TokenType: "bearer", ExpiresIn: sixtyDays,
				Permissions: []string{"instagram_business_basic", "instagram_business_manage_comments"}},
		},
		{
			name: "expires_in absent means unknown",
			body: `{"access_token":"IGAAx"}`,
			want: LongLivedToken{AccessToken: "IGAAx"},
		},
		{
			name: "expires_in as float",
			body: `{"access_token":"IGAAx","expires_in":5184000.0}`,
			want: LongLivedToken{AccessToken: "IGAAx", ExpiresIn: sixtyDays},
		},
		{
			name: "expires_in padded string",
			body: `{"access_token":"IGAAx","expires_in":" 3600 "}`,
			want: LongLivedToken{AccessToken: "IGAAx", ExpiresIn: time.Hour},
		},
		{
			name: "data wrapped",
			body: `{"data":[{"access_token":"IGAAx","token_type":"bearer","expires_in":60}]}`,
			want: LongLivedToken{AccessToken: "IGAAx", TokenType: "bearer", ExpiresIn: time.Minute},
		},
		{name: "negative expires_in", body: `{"access_token":"IGAAx","expires_in":-5}`, wantErr: "expires_in is negative"},
		{name: "absurd expires_in", body: `{"access_token":"IGAAx","expires_in":99999999999999999999999}`, wantErr: "out of range"},
		{name: "expires_in text", body: `{"access_token":"IGAAx","expires_in":"soon"}`, wantErr: "not a number"},
		{name: "expires_in NaN", body: `{"access_token":"IGAAx","expires_in":"NaN"}`, wantErr: "not a number"},
		{name: "expires_in bool", body: `{"access_token":"IGAAx","expires_in":true}`, wantErr: "not a number"},
		{name: "token_type number", body: `{"access_token":"IGAAx","token_type":1}`, wantErr: "token_type is not a string"},
		{name: "missing token", body: `{"token_type":"bearer","expires_in":5184000}`, wantErr: "no access_token"},
		{name: "truncated", body: `{"access_token":"IGAAx","expires_in":51`, wantErr: "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeLongLived(body(t, tt.body))
			checkDecode(t, got, tt.want, err, tt.wantErr)
		})
	}
}

func TestDecodeProfile(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    Profile
		wantErr string
	}{
		{
			name: "flat",
			body: "me_flat.json",
			want: Profile{ID: "7091234567890123", UserID: "17841400000000001", Username: "acme", AccountType: "BUSINESS"},
		},
		{
			name: "docs example: data[] wrapped",
			body: "me_wrapped.json",
			want: Profile{UserID: "17841405793187218", Username: "jaypop"},
		},
		{
			name: "numeric ids stay exact",
			body: "me_numeric_ids.json",
			want: Profile{ID: "27640875392278831", UserID: "17841405793187218", Username: "acme", Name: "Acme Inc.", AccountType: "Media_Creator"},
		},
		{name: "no user_id", body: `{"id":"1","username":"acme"}`, wantErr: "no user_id"},
		{name: "user_id not digits", body: `{"user_id":"abc","username":"acme"}`, wantErr: "not a decimal id"},
		{name: "username number", body: `{"user_id":"1","username":5}`, wantErr: "username is not a string"},
		{name: "empty", body: ``, wantErr: "empty response body"},
		{name: "malformed", body: `{"user_id":"1",}`, wantErr: "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeProfile(body(t, tt.body))
			checkDecode(t, got, tt.want, err, tt.wantErr)
		})
	}
}

func checkDecode[T any](t *testing.T, got, want T, err error, wantErr string) {
	t.Helper()
	if wantErr != "" {
		var de *decodeError
		if err == nil || !errors.As(err, &de) || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error = %v, want a decodeError containing %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
}
