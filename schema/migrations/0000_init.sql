CREATE TABLE `bugs` (
	`id` integer PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`fingerprint` text NOT NULL,
	`source` text NOT NULL,
	`level` text NOT NULL,
	`environment` text NOT NULL,
	`status` text NOT NULL,
	`error_type` text NOT NULL,
	`error_message` text NOT NULL,
	`file_path` text,
	`line_number` integer,
	`stack_trace` text NOT NULL,
	`context` text NOT NULL,
	`version` text,
	`commit_hash` text,
	`occurrence_count` integer DEFAULT 1 NOT NULL,
	`regression_count` integer DEFAULT 0 NOT NULL,
	`first_seen` text NOT NULL,
	`last_seen` text NOT NULL,
	`reopened_from` text,
	`pr_number` integer,
	`pr_url` text,
	`branch_name` text,
	`merge_commit_sha` text,
	`merged_at` text,
	`deployed_at` text,
	`claimed_by` text,
	`lease_expires_at` text,
	`lease_expiry_count` integer DEFAULT 0 NOT NULL,
	`status_changed_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bugs_fingerprint_unique` ON `bugs` (`fingerprint`);--> statement-breakpoint
CREATE INDEX `bugs_project_last_seen` ON `bugs` (`project_id`,`last_seen`);--> statement-breakpoint
CREATE INDEX `bugs_status_last_seen` ON `bugs` (`status`,`last_seen`);--> statement-breakpoint
CREATE INDEX `bugs_source_last_seen` ON `bugs` (`source`,`last_seen`);--> statement-breakpoint
CREATE INDEX `bugs_last_seen` ON `bugs` (`last_seen`);--> statement-breakpoint
CREATE INDEX `bugs_first_seen` ON `bugs` (`first_seen`);--> statement-breakpoint
CREATE INDEX `bugs_level` ON `bugs` (`level`);--> statement-breakpoint
CREATE INDEX `bugs_environment` ON `bugs` (`environment`);--> statement-breakpoint
CREATE INDEX `bugs_occurrence_count` ON `bugs` (`occurrence_count`);--> statement-breakpoint
CREATE INDEX `bugs_pr_number` ON `bugs` (`pr_number`);--> statement-breakpoint
CREATE INDEX `bugs_lease` ON `bugs` (`status`,`lease_expires_at`);--> statement-breakpoint
CREATE TABLE `occurrences` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`bug_id` integer NOT NULL,
	`received_at` text NOT NULL,
	`occurred_at` text NOT NULL,
	`environment` text NOT NULL,
	`level` text NOT NULL,
	`version` text,
	`commit_hash` text,
	`message` text NOT NULL,
	`stack_trace` text NOT NULL,
	`context` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `occurrences_bug` ON `occurrences` (`bug_id`,`id`);--> statement-breakpoint
CREATE INDEX `occurrences_received` ON `occurrences` (`received_at`);--> statement-breakpoint
CREATE TABLE `repair_reports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`bug_id` integer NOT NULL,
	`agent_id` text,
	`analysis` text,
	`modified_files` text NOT NULL,
	`diff` text,
	`test_passed` integer,
	`test_output` text,
	`branch_name` text,
	`pr_number` integer,
	`pr_url` text,
	`duration_ms` integer,
	`tokens_in` integer,
	`tokens_out` integer,
	`model` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `repair_reports_bug` ON `repair_reports` (`bug_id`,`id`);--> statement-breakpoint
CREATE TABLE `status_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`bug_id` integer NOT NULL,
	`from_status` text,
	`to_status` text NOT NULL,
	`actor` text NOT NULL,
	`note` text,
	`at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `status_history_bug` ON `status_history` (`bug_id`,`id`);--> statement-breakpoint
CREATE INDEX `status_history_to_at` ON `status_history` (`to_status`,`at`);--> statement-breakpoint
CREATE TABLE `projects` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`repo_url` text,
	`local_path` text,
	`description` text,
	`ingest_key` text,
	`rate_limit_per_minute` integer,
	`test_command` text,
	`alert_settings` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
