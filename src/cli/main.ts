// Placeholder entry point; the command line lives in src/cli/.
process.stdout.write('ts-runc: not implemented yet\n');
