//! The command tree: every command's name, texts, flags and argument rule,
//! in upstream kind's words (spec §1.2). This is the one place a command is
//! added: one entry here (a [`Node`] under its group) and one arm in
//! `commands::dispatch` for its [`CommandId`]. Parsing (`cobra.rs`), help
//! (`help.rs`) and shell completion (`completion.rs`) all read this tree.

use super::pflag::{FlagKind, FlagSpec};

/// A runnable leaf command, as `commands::dispatch` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandId {
    BuildNodeImage,
    CompletionBash,
    CompletionFish,
    CompletionPowerShell,
    CompletionZsh,
    CreateCluster,
    CreateNode,
    DeleteCluster,
    DeleteClusters,
    DeleteNode,
    Doctor,
    ExportKubeconfig,
    ExportLogs,
    GetClusters,
    GetKubeconfig,
    GetNodes,
    LoadDockerImage,
    LoadImageArchive,
    ResizeCluster,
    StartCluster,
    StopCluster,
    Version,
}

/// What running a command does, as far as the parser must know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// The root: not runnable, so it prints its help.
    Root,
    /// A group: prints its help, then fails with `Subcommand is required`.
    Group,
    /// cobra's `help [command]`.
    Help,
    Leaf(CommandId),
}

/// cobra's positional-argument validators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgsRule {
    /// `Args: nil`: anything (the root additionally rejects unknown commands).
    Unchecked,
    /// `cobra.NoArgs`: `unknown command "<arg>" for "<path>"`.
    None,
    /// `cobra.MaximumNArgs(n)`.
    AtMost(usize),
    /// At least one, else this message (kind's own validators).
    AtLeastOne(&'static str),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: &'static str,
    /// What follows the command path in the usage line (`[output-dir]`).
    pub use_args: &'static str,
    pub short: &'static str,
    /// Empty: the help shows `short`.
    pub long: &'static str,
    pub args: ArgsRule,
    pub run: Run,
    /// Local flags (the root's are its persistent ones, inherited by all).
    pub flags: Vec<FlagSpec>,
    pub children: Vec<Node>,
}

impl Node {
    fn group(name: &'static str, short: &'static str, long: &'static str) -> Node {
        Node {
            name,
            use_args: "",
            short,
            long,
            args: ArgsRule::Unchecked,
            run: Run::Group,
            flags: Vec::new(),
            children: Vec::new(),
        }
    }

    fn leaf(name: &'static str, id: CommandId, short: &'static str, long: &'static str) -> Node {
        Node {
            name,
            use_args: "",
            short,
            long,
            args: ArgsRule::None,
            run: Run::Leaf(id),
            flags: Vec::new(),
            children: Vec::new(),
        }
    }

    fn use_args(mut self, s: &'static str) -> Node {
        self.use_args = s;
        self
    }

    fn args(mut self, rule: ArgsRule) -> Node {
        self.args = rule;
        self
    }

    fn flags(mut self, flags: Vec<FlagSpec>) -> Node {
        self.flags = flags;
        self
    }

    fn children(mut self, mut children: Vec<Node>) -> Node {
        // cobra sorts commands by name for help and lookup order.
        children.sort_by_key(|c| c.name);
        self.children = children;
        self
    }

    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The node at `path` below this one.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, name| n.child(name))
    }
}

const NAME_CONTEXT: &str = "the cluster context name";
const KUBECONFIG: &str = "sets kubeconfig path instead of $KUBECONFIG or $HOME/.kube/config";
const INTERNAL: &str = "use internal address instead of external";
const NODES: &str = "comma separated list of nodes to load images into";

/// Ours (kind-sysbox): `--network` of `create cluster`.
const NETWORK: &str = "docker network for the nodes, created for this cluster if absent (then deleted with it); overrides KIND_EXPERIMENTAL_DOCKER_NETWORK (kind-sysbox only)";

/// Ours (kind-sysbox): `-o` of `get clusters` and `get nodes`; unset keeps
/// upstream's one name per line.
fn output_flag() -> FlagSpec {
    FlagSpec::new(
        "output",
        Some('o'),
        FlagKind::String,
        "",
        "output format: wide, json or yaml (default: names only)",
    )
}

fn name_flag(default: &'static str, usage: &'static str) -> FlagSpec {
    FlagSpec::new("name", Some('n'), FlagKind::String, default, usage)
}

fn string_flag(name: &'static str, default: &'static str, usage: &'static str) -> FlagSpec {
    FlagSpec::new(name, None, FlagKind::String, default, usage)
}

fn bool_flag(name: &'static str, short: Option<char>, usage: &'static str) -> FlagSpec {
    FlagSpec::new(name, short, FlagKind::Bool, "false", usage)
}

fn strings_flag(name: &'static str, usage: &'static str) -> FlagSpec {
    FlagSpec::new(name, None, FlagKind::StringSlice, "[]", usage)
}

/// The persistent flags every command inherits from the root.
pub fn global_flags() -> Vec<FlagSpec> {
    vec![
        FlagSpec::new(
            "verbosity",
            Some('v'),
            FlagKind::Int32,
            "0",
            "info log verbosity, higher value produces more output",
        ),
        bool_flag("quiet", Some('q'), "silence all stderr output"),
    ]
}

/// The whole `kind` command tree.
pub fn root() -> Node {
    use CommandId::*;
    let build = Node::group("build", "Build one of [node-image]", "Build one of [node-image]")
        .children(vec![Node::leaf(
            "node-image",
            BuildNodeImage,
            "Build the node image",
            BUILD_NODE_IMAGE_LONG,
        )
        .use_args("[kubernetes-source]")
        .args(ArgsRule::AtMost(1))
        .flags(vec![
            string_flag(
                "type",
                "",
                "optionally specify one of 'url', 'file', 'release', 'ci' or 'source' as the type of build",
            ),
            string_flag(
                "image",
                crate::images::build::DEFAULT_BUILD_IMAGE,
                "name:tag of the resulting image to be built",
            ),
            string_flag(
                "base-image",
                crate::images::build::DEFAULT_BASE_IMAGE,
                "name:tag of the base image to use for the build",
            ),
            string_flag(
                "arch",
                "",
                "architecture to build for, defaults to the host architecture",
            ),
            strings_flag(
                "preload",
                "images on the host to preload into the node image's containerd (repeatable, comma separated)",
            ),
            strings_flag(
                "preload-archive",
                "image archives to preload into the node image's containerd (repeatable, comma separated)",
            ),
        ])]);

    let completion = Node::group(
        "completion",
        "Output shell completion code for the specified shell (bash, zsh or fish)",
        COMPLETION_LONG,
    )
    .children(vec![
        Node::leaf(
            "bash",
            CompletionBash,
            "Output shell completions for bash",
            "",
        ),
        // Upstream's fish command declares no argument rule.
        Node::leaf(
            "fish",
            CompletionFish,
            "Output shell completions for fish",
            "",
        )
        .args(ArgsRule::Unchecked),
        Node::leaf(
            "powershell",
            CompletionPowerShell,
            "Output shell completions for powershell",
            "",
        ),
        Node::leaf("zsh", CompletionZsh, "Output shell completions for zsh", ""),
    ]);

    let create = Node::group(
        "create",
        "Creates one of [cluster]",
        "Creates one of local Kubernetes cluster (cluster)",
    )
    .children(vec![
        create_node(),
        Node::leaf(
            "cluster",
            CreateCluster,
            "Creates a local Kubernetes cluster",
            "Creates a local Kubernetes cluster using Docker container 'nodes'",
        )
        .flags(vec![
            name_flag(
                "",
                "cluster name, overrides KIND_CLUSTER_NAME, config (default kind)",
            ),
            string_flag("config", "", "path to a kind config file"),
            string_flag(
                "image",
                "",
                "node docker image to use for booting the cluster",
            ),
            bool_flag(
                "retain",
                None,
                "retain nodes for debugging when cluster creation fails",
            ),
            FlagSpec::new(
                "wait",
                None,
                FlagKind::Duration,
                "0s",
                "wait for control plane node to be ready (default 0s)",
            ),
            string_flag("kubeconfig", "", KUBECONFIG),
            // Ours (kind-sysbox).
            string_flag("network", "", NETWORK),
            // Ours (not upstream's): `--rm` nodes, see README "Cluster lifecycle".
            bool_flag(
                "ephemeral",
                None,
                "nodes are removed by Docker when they stop: faster deletion, but no stop/start and no surviving a Docker restart (kind-sysbox only)",
            ),
        ]),
    ]);

    let delete = Node::group(
        "delete",
        "Deletes one of [cluster]",
        "Deletes one of [cluster]",
    )
    .children(vec![
        Node::leaf(
            "cluster",
            DeleteCluster,
            "Deletes a cluster",
            DELETE_CLUSTER_LONG,
        )
        .flags(vec![
            name_flag("kind", "the cluster name"),
            string_flag("kubeconfig", "", KUBECONFIG),
        ]),
        Node::leaf(
            "clusters",
            DeleteClusters,
            "Deletes one or more clusters",
            DELETE_CLUSTERS_LONG,
        )
        .args(ArgsRule::Unchecked)
        .flags(vec![
            string_flag("kubeconfig", "", KUBECONFIG),
            bool_flag("all", Some('A'), "delete all clusters"),
        ]),
        delete_node(),
    ]);

    let export = Node::group(
        "export",
        "Exports one of [kubeconfig, logs]",
        "Exports one of [kubeconfig, logs]",
    )
    .children(vec![
        Node::leaf(
            "kubeconfig",
            ExportKubeconfig,
            "Exports cluster kubeconfig",
            "Exports cluster kubeconfig",
        )
        .flags(vec![
            name_flag("kind", NAME_CONTEXT),
            string_flag("kubeconfig", "", KUBECONFIG),
            bool_flag("internal", None, INTERNAL),
        ]),
        Node::leaf(
            "logs",
            ExportLogs,
            "Exports logs to a tempdir or [output-dir] if specified",
            "Exports logs to a tempdir or [output-dir] if specified",
        )
        .use_args("[output-dir]")
        .args(ArgsRule::AtMost(1))
        .flags(vec![name_flag("kind", NAME_CONTEXT)]),
    ]);

    let get = Node::group(
        "get",
        "Gets one of [clusters, nodes, kubeconfig]",
        "Gets one of [clusters, nodes, kubeconfig]",
    )
    .children(vec![
        Node::leaf(
            "clusters",
            GetClusters,
            "Lists existing kind clusters by their name",
            "Lists existing kind clusters by their name",
        )
        .flags(vec![output_flag()]),
        Node::leaf(
            "nodes",
            GetNodes,
            "Lists existing kind nodes by their name",
            "Lists existing kind nodes by their name",
        )
        .flags(vec![
            name_flag("kind", NAME_CONTEXT),
            bool_flag(
                "all-clusters",
                Some('A'),
                "If present, list all the available nodes across all cluster contexts. Current context is ignored even if specified with --name.",
            ),
            output_flag(),
        ]),
        Node::leaf(
            "kubeconfig",
            GetKubeconfig,
            "Prints cluster kubeconfig",
            "Prints cluster kubeconfig",
        )
        .flags(vec![
            name_flag("kind", NAME_CONTEXT),
            bool_flag("internal", None, INTERNAL),
        ]),
    ]);

    let mut load = Node::group(
        "load",
        "Loads images into nodes",
        "Loads images into node from an archive or image on host",
    )
    .children(vec![
        Node::leaf(
            "docker-image",
            LoadDockerImage,
            "Loads docker images from host into nodes",
            "Loads docker images from host into all or specified nodes by name",
        )
        .use_args("<IMAGE> [IMAGE...]")
        .args(ArgsRule::AtLeastOne("a list of image names is required"))
        .flags(vec![
            name_flag("kind", NAME_CONTEXT),
            strings_flag("nodes", NODES),
        ]),
        Node::leaf(
            "image-archive",
            LoadImageArchive,
            "Loads docker image from archive into nodes",
            "Loads docker image from archive into all or specified nodes by name",
        )
        .use_args("<IMAGE.tar>")
        .args(ArgsRule::AtLeastOne("name of image archive is required"))
        .flags(vec![
            name_flag("kind", NAME_CONTEXT),
            strings_flag("nodes", NODES),
        ]),
    ]);
    // `load` alone of the groups declares cobra.NoArgs.
    load.args = ArgsRule::None;

    // Ours alone (not in upstream kind): host checks for Sysbox nodes.
    let doctor = Node::leaf(
        "doctor",
        Doctor,
        "Checks that this host can run Sysbox nodes (kind-sysbox only)",
        "Checks that this host can run Sysbox nodes: Docker endpoint and version, the Sysbox
runtime and what it points to, kernel, cgroups, inotify limits and free disk.
Each check prints ok, warn or fail with what to do; exits 1 when any check fails.",
    )
    .args(ArgsRule::None);

    // Ours alone (not in upstream kind): stop and start a cluster's nodes.
    let start = Node::group(
        "start",
        "Starts one of [cluster] (kind-sysbox only)",
        "Starts one of [cluster] (kind-sysbox only)",
    )
    .children(vec![Node::leaf(
        "cluster",
        StartCluster,
        "Starts a stopped cluster",
        START_CLUSTER_LONG,
    )
    .flags(vec![
        name_flag("kind", "the cluster name"),
        FlagSpec::new(
            "wait",
            None,
            FlagKind::Duration,
            "5m0s",
            "wait this long at most for every node to be Ready; 0 does not wait",
        ),
    ])]);
    let stop = Node::group(
        "stop",
        "Stops one of [cluster] (kind-sysbox only)",
        "Stops one of [cluster] (kind-sysbox only)",
    )
    .children(vec![Node::leaf(
        "cluster",
        StopCluster,
        "Stops a running cluster",
        STOP_CLUSTER_LONG,
    )
    .flags(vec![name_flag("kind", "the cluster name")])]);

    let version = Node::leaf(
        "version",
        Version,
        "Prints the kind CLI version",
        "Prints the kind CLI version",
    )
    .args(ArgsRule::Unchecked);

    let help = Node {
        name: "help",
        use_args: "[command]",
        short: "Help about any command",
        long: "Help provides help for any command in the application.\nSimply type kind help [path to command] for full details.",
        args: ArgsRule::Unchecked,
        run: Run::Help,
        flags: Vec::new(),
        children: Vec::new(),
    };

    Node {
        name: "kind",
        use_args: "",
        short: "kind is a tool for managing local Kubernetes clusters",
        long: "kind creates and manages local Kubernetes clusters using Docker container 'nodes'",
        args: ArgsRule::Unchecked,
        run: Run::Root,
        flags: global_flags(),
        children: Vec::new(),
    }
    .children(vec![
        build,
        completion,
        create,
        delete,
        doctor,
        export,
        get,
        help,
        load,
        resize(),
        start,
        stop,
        version,
    ])
}

// Ours alone (not in upstream kind): nodes added to and removed from a
// running cluster (README, "Beyond kind").

fn create_node() -> Node {
    Node::leaf(
        "node",
        CommandId::CreateNode,
        "Adds a node to a running cluster (kind-sysbox only)",
        "Adds a node to a running cluster, configured as the cluster's other nodes were
(its stored config and runtime mode) and joined with a fresh kubeadm token.
It gets the next free name (<cluster>-worker2, <cluster>-control-plane3, ...).
A control-plane node needs the external load balancer (clusters created with
two or more control planes), whose backends are updated.
On failure or interruption the node is removed again unless --retain.",
    )
    .flags(vec![
        name_flag("kind", "the cluster name"),
        string_flag(
            "role",
            "worker",
            "role of the new node: worker or control-plane",
        ),
        string_flag(
            "image",
            "",
            "node docker image of the new node (default: the bootstrap control plane's)",
        ),
        bool_flag(
            "retain",
            None,
            "retain the node for debugging when adding it fails",
        ),
    ])
}

fn delete_node() -> Node {
    Node::leaf(
        "node",
        CommandId::DeleteNode,
        "Deletes nodes from a running cluster (kind-sysbox only)",
        "Deletes nodes from a running cluster: each is drained (at most 60s), its Node
object is deleted, a control plane also leaves etcd (kubeadm reset), and its
container is removed. Deleting the load balancer or the last control plane is
refused.",
    )
    .use_args("<NODE> [NODE...]")
    .args(ArgsRule::AtLeastOne("a list of node names is required"))
    .flags(vec![name_flag("kind", "the cluster name")])
}

fn resize() -> Node {
    Node::group(
        "resize",
        "Resizes one of [cluster] (kind-sysbox only)",
        "Resizes one of [cluster] (kind-sysbox only)",
    )
    .children(vec![Node::leaf(
        "cluster",
        CommandId::ResizeCluster,
        "Sets the number of worker nodes of a running cluster",
        "Sets the number of worker nodes of a running cluster: workers are added as
\"kind create node\" adds them, or removed highest-numbered first as \"kind delete
node\" removes them. Control planes are never changed.
On failure or interruption added workers are removed again unless --retain.",
    )
    .flags(vec![
        name_flag("kind", "the cluster name"),
        FlagSpec::new(
            "workers",
            None,
            FlagKind::Int32,
            "0",
            "number of worker nodes wanted (required; 0 to 100)",
        ),
        string_flag(
            "image",
            "",
            "node docker image of added workers (default: the bootstrap control plane's)",
        ),
        bool_flag(
            "retain",
            None,
            "retain added workers for debugging when adding them fails",
        ),
    ])])
}

/// Ours, not upstream's: this build derives node images from a kindest/node
/// base image instead of compiling Kubernetes (README, "build node-image").
const BUILD_NODE_IMAGE_LONG: &str =
    "Build a node image for Sysbox nodes by deriving it from a kindest/node base image,
optionally preloading images from the host or from image archives into its containerd.
Building Kubernetes from source, release tarballs or CI builds is not supported:
build with upstream kind and pass the result as --base-image.";

const START_CLUSTER_LONG: &str =
    "Starts the stopped nodes of a cluster: the load balancer, then the control
planes, then the workers; then waits (--wait, bounded) until every node is Ready.
Nodes keep their addresses and published ports, so the kubeconfig still works.
Fails, changing nothing, when the cluster does not exist or already runs.";

const STOP_CLUSTER_LONG: &str =
    "Stops the nodes of a cluster: the workers, then the control planes, then the
load balancer; `kind start cluster` brings it back. Fails, changing nothing, when
the cluster does not exist, is stopped already, or was created with --ephemeral.";

const DELETE_CLUSTER_LONG: &str = "Deletes a Kind cluster from the system.

This is an idempotent operation, meaning it may be called multiple times without
failing (like \"rm -f\"). If the cluster resources exist they will be deleted, and
if the cluster is already gone it will just return success.

Errors will only occur if the cluster resources exist and are not able to be deleted.
";

const DELETE_CLUSTERS_LONG: &str = "Deletes one or more Kind clusters from the system.

This is an idempotent operation, meaning it may be called multiple times without
failing (like \"rm -f\"). If the cluster resources exist they will be deleted, and
if the cluster is already gone it will just return success.

Errors will only occur if the cluster resources exist and are not able to be deleted.
";

const COMPLETION_LONG: &str = r#"
Outputs kind shell completion for the given shell (bash, fish, powershell, or zsh)
This depends on the bash-completion binary.  Example installation instructions:
# for bash users
	$ kind completion bash > ~/.kind-completion
	$ source ~/.kind-completion

# for zsh users
	% kind completion zsh > /usr/local/share/zsh/site-functions/_kind
	% autoload -U compinit && compinit
# or if zsh-completion is installed via homebrew
    % kind completion zsh > "${fpath[1]}/_kind"
# or if you use oh-my-zsh (needs zsh-completions plugin)
	% mkdir $ZSH/completions/
	% kind completion zsh > $ZSH/completions/_kind

# for fish users
	% kind completion fish > ~/.config/fish/completions/kind.fish

# for powershell users
	PS> kind completion powershell | Out-String | Invoke-Expression

Additionally, you may want to output the completion to a file and source in your .bashrc
Note for zsh users: [1] zsh completions are only supported in versions of zsh >= 5.2
"#;
