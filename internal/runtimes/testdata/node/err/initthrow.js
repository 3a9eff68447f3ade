throw new Error('init went wrong');
