/*
Copyright 2026 The igconnect Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package image

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// containersConf is what podman needs on these machines, given through CONTAINERS_CONF so
// that the machine's /etc stays as it is: the cgroupfs manager (there is no systemd to ask,
// and crun fails on the hybrid cgroup layout, so runc runs the container), no default
// ulimits (raising them is denied here), and events and logs in files.
const containersConf = `[containers]
default_ulimits = []
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "%[1]s/events.log"
runtime = "runc"
tmp_dir = "%[1]s/tmp"
`

// podman runs podman with its own storage and configuration under dir, so that a test
// neither sees nor leaves images and containers in the machine's store.
type podman struct {
	path, dir string
}

// newPodman finds podman and runc, or skips the spec with what to install; in CI (CI=true)
// their absence fails it, since .ci/run installs them.
func newPodman() *podman {
	GinkgoHelper()
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " is not installed (apt-get install podman runc): the image is not run in a container"
			if os.Getenv("CI") == "true" {
				Fail(msg + "; CI installs both, see .ci/run")
			}
			Skip(msg)
		}
	}
	path, _ := exec.LookPath("podman")
	// A short folder: conmon's attach socket lives under the run root, and a socket path
	// may not exceed 108 bytes.
	dir, err := os.MkdirTemp("", "igimg-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(os.RemoveAll(dir)).To(Succeed()) })
	Expect(os.WriteFile(filepath.Join(dir, "containers.conf"), []byte(fmt.Sprintf(containersConf, dir)), 0o644)).To(Succeed())
	Expect(os.MkdirAll(filepath.Join(dir, "tmp"), 0o700)).To(Succeed())
	return &podman{path: path, dir: dir}
}

// env is the environment podman runs with.
func (p *podman) env() []string {
	return []string{"CONTAINERS_CONF=" + filepath.Join(p.dir, "containers.conf")}
}

// globalArgs keep the images, containers and their state under the test's folder.
func (p *podman) globalArgs() []string {
	return []string{"--root", filepath.Join(p.dir, "storage"), "--runroot", filepath.Join(p.dir, "run")}
}

// run runs one podman command and returns its output.
func (p *podman) run(args ...string) string {
	GinkgoHelper()
	cmd := exec.CommandContext(ctx, p.path, append(p.globalArgs(), args...)...)
	cmd.Env = append(os.Environ(), p.env()...)
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "podman %s:\n%s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

// procStatus returns the fields of /proc/PID/status.
func procStatus(pid string) map[string]string {
	GinkgoHelper()
	b, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	Expect(err).NotTo(HaveOccurred())
	fields := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			fields[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return fields
}

// rootMountOptions returns the mount options of / as process pid sees it.
func rootMountOptions(pid string) []string {
	GinkgoHelper()
	b, err := os.ReadFile(filepath.Join("/proc", pid, "mountinfo"))
	Expect(err).NotTo(HaveOccurred())
	var opts []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		// id parent major:minor root mount-point options ...; the last / mounted wins.
		if len(f) > 5 && f[4] == "/" {
			opts = strings.Split(f[5], ",")
		}
	}
	Expect(opts).NotTo(BeEmpty(), "no / in the container's mountinfo")
	return opts
}

var _ = Describe("the image in podman", func() {
	It("loads from the OCI archive and makes a connection Ready, as uid 65532 on a read-only root", func() {
		p := newPodman()
		const ns = "image-podman"

		By("loading the OCI archive")
		loaded := p.run("load", "-i", filepath.Join(buildA, "manager.oci.tar"))
		GinkgoWriter.Println(loaded)
		Expect(p.run("image", "inspect", "--format", "{{.Os}}/{{.Architecture}} {{.Config.User}}", testName)).
			To(Equal("linux/" + runtime.GOARCH + " 65532:65532"))

		createNamespace(ns)
		sb := startSandbox(ns)

		By("running the manager container with host networking and a read-only kubeconfig")
		// The container runs as 65532, which must be able to read the mounted kubeconfig.
		kubeconfig := filepath.Join(p.dir, "kubeconfig")
		b, err := os.ReadFile(controlPlane.KubeconfigPath)
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(kubeconfig, b, 0o400)).To(Succeed())
		if os.Geteuid() == 0 {
			Expect(os.Chown(kubeconfig, 65532, 65532)).To(Succeed())
		} else {
			Expect(os.Chmod(kubeconfig, 0o444)).To(Succeed())
		}
		callbackAddr, err := devenv.FreeAddr()
		Expect(err).NotTo(HaveOccurred())
		probeAddr, err := devenv.FreeAddr()
		Expect(err).NotTo(HaveOccurred())
		name := fmt.Sprintf("igconnect-imagetest-%d", time.Now().UnixNano())
		args := append(p.globalArgs(), "run", "--rm", "--name", name,
			"--network", "host",
			"--read-only", "--read-only-tmpfs=false",
			"--cap-drop", "all", "--security-opt", "no-new-privileges",
			"--volume", kubeconfig+":/etc/igconnect/kubeconfig:ro",
			"--env", "KUBECONFIG=/etc/igconnect/kubeconfig",
			// Names only: podman takes the values from its own environment, so the secret is
			// on no command line.
			"--env", "INSTAGRAM_CLIENT_ID", "--env", "INSTAGRAM_CLIENT_SECRET",
			testName)
		args = append(args, managerFlags(sb.URL, ns, callbackAddr, probeAddr)...)
		mgr, err := devenv.StartProcess(ctx, devenv.ProcessSpec{
			Name: "manager-container",
			Path: p.path,
			Args: args,
			Env: append(p.env(), "INSTAGRAM_CLIENT_ID="+sandbox.DefaultClientID,
				"INSTAGRAM_CLIENT_SECRET="+sandbox.DefaultClientSecret),
			LogFile: filepath.Join(workDir, ns+"-manager.log"),
			Echo:    GinkgoWriter,
			Ready: []devenv.ReadyCheck{
				devenv.HTTPReady("http://" + probeAddr + "/readyz"),
				devenv.HTTPReady("http://" + callbackAddr + "/healthz"),
			},
			// Loading the container takes longer than starting a binary.
			StartTimeout: 2 * time.Minute,
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			Expect(mgr.Stop()).To(Succeed())
			Expect(mgr.ExitErr()).NotTo(HaveOccurred(), "the container should exit cleanly when podman passes on SIGTERM")
			// Nothing is left behind should podman not have removed it (--rm).
			cmd := exec.Command(p.path, append(p.globalArgs(), "rm", "--force", "--ignore", name)...)
			cmd.Env = append(os.Environ(), p.env()...)
			out, err := cmd.CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
		})

		By("checking how the container's process runs, from the host")
		pid := p.run("inspect", "--format", "{{.State.Pid}}", name)
		status := procStatus(pid)
		Expect(status["Name"]).To(Equal("manager"))
		Expect(status["Uid"]).To(Equal("65532 65532 65532 65532"), "the image's USER, with no --user given")
		Expect(status["Gid"]).To(Equal("65532 65532 65532 65532"))
		Expect(status["CapEff"]).To(Equal("0000000000000000"))
		Expect(rootMountOptions(pid)).To(ContainElement("ro"), "the root file system is read-only")

		expectImportedTokenReady(ns, sb)
	})
})
