DROP INDEX `bugs_status_last_seen`;--> statement-breakpoint
DROP INDEX `bugs_source_last_seen`;--> statement-breakpoint
DROP INDEX `bugs_level`;--> statement-breakpoint
CREATE INDEX `bugs_source` ON `bugs` (`source`);--> statement-breakpoint
CREATE INDEX `bugs_level_environment` ON `bugs` (`level`,`environment`);