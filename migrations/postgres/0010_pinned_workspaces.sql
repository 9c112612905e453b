-- The one workspace per platform a deployment serves when the config names
-- none (`[slack] teams`, `[discord] guilds`): the first one to use Quorum.
CREATE TABLE pinned_workspaces (
    platform  TEXT PRIMARY KEY,
    workspace TEXT NOT NULL,
    at        INTEGER NOT NULL
);
