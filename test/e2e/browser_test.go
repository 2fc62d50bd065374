package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/igconnect/igconnect/internal/sandbox"
)

// artifactsDir receives the browser test's screenshots (gitignored).
const artifactsDir = "artifacts"

// findChromium returns the Chromium to drive: $CHROMIUM, else the first browser on PATH.
func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

var _ = Describe("a person logging in with Chromium", Ordered, func() {
	var (
		s        *stack
		chromium string
	)

	BeforeAll(func() {
		chromium = findChromium()
		if chromium == "" {
			msg := "Chromium is not installed: install it with `apt-get install -y chromium` (Debian), " +
				"or set CHROMIUM to a Chromium or Chrome binary"
			if os.Getenv("CI") == "true" {
				Fail(msg + " (CI must run the browser test)")
			}
			Skip(msg)
		}
		s = startStack("e2e-browser", []string{"--account", "paula:17841400000000301", "--account",
			"quinn:17841400000000302"}, nil)
	})

	It("opens the start page, clicks Allow on the sandbox's consent page and sees the account connected", func() {
		paula := s.account("paula") // the first account, which the consent page preselects
		name := "ig-" + paula.UserID

		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(chromium),
			chromedp.Headless,
			chromedp.NoSandbox, // the tests run as root
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.UserDataDir(GinkgoT().TempDir()),
			chromedp.WindowSize(1024, 900),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("no-proxy-server", true),
		}
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
		defer cancelAlloc()
		browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithErrorf(GinkgoWriter.Printf))
		defer cancelBrowser()
		// The first call starts Chromium; it must not carry a timeout, which would stop the
		// browser with it. Later calls are bounded.
		Expect(chromedp.Do(browserCtx)).To(Succeed(), "start Chromium (%s)", chromium)
		runCtx, cancelRun := context.WithTimeout(browserCtx, 90*time.Second)
		defer cancelRun()
		run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
			GinkgoHelper()
			Expect(chromedp.Do(runCtx, steps...)).To(Succeed(), what)
		}
		get := func(what string, a chromedp.Action[string]) string {
			GinkgoHelper()
			v, err := chromedp.Run(runCtx, a)
			Expect(err).NotTo(HaveOccurred(), what)
			return v
		}
		screenshot := func() []byte {
			GinkgoHelper()
			shot, err := chromedp.Run(runCtx, chromedp.FullScreenshot(100))
			Expect(err).NotTo(HaveOccurred(), "screenshot")
			return shot
		}

		run("open the start page and land on the consent page",
			chromedp.Navigate(s.mgr.StartURL()), chromedp.WaitVisible(chromedp.CSS("#allow")))
		consentURL := get("consent page URL", chromedp.Location())
		banner := get("sandbox banner", chromedp.Text(chromedp.CSS("#sandbox-banner")))
		consentShot := screenshot()
		run("click Allow and land on the result page",
			chromedp.Click(chromedp.CSS("#allow")), chromedp.WaitVisible(chromedp.CSS(".badge")))
		resultURL := get("result page URL", chromedp.Location())
		result := get("result page text", chromedp.Text(chromedp.CSS("main")))
		resultShot := screenshot()

		Expect(os.MkdirAll(artifactsDir, 0o755)).To(Succeed())
		for file, shot := range map[string][]byte{"browser-consent.png": consentShot, "browser-result.png": resultShot} {
			path, err := filepath.Abs(filepath.Join(artifactsDir, file))
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(path, shot, 0o644)).To(Succeed())
			GinkgoWriter.Printf("screenshot: %s\n", path)
			AddReportEntry("screenshot", path)
		}

		Expect(consentURL).To(HavePrefix(s.sb.URL+"/oauth/authorize?"), "the start page sends the browser to the sandbox")
		Expect(banner).To(ContainSubstring(sandboxBanner))
		Expect(resultURL).To(HavePrefix(s.mgr.PublicURL + "/auth/instagram/callback?"))
		Expect(result).To(ContainSubstring("Instagram account connected"))
		Expect(result).To(ContainSubstring("@" + paula.Username))
		Expect(result).To(ContainSubstring(s.ns + "/" + name))

		s.expectMountedReady(name, paula)
		Expect(s.calls(sandbox.EndpointAuthorize)).To(Equal(2), "the consent page shown, then the Allow posted")
	})
})
