/**
 * Deterministic text the simulated participants "say" (transcripts) and type (chat).
 * Plain English so transcripts are readable in demo output; language code 9 (English).
 */

export const MEETING_PHRASES: readonly string[] = [
  'Good morning everyone, thanks for joining.',
  'Let us start with a quick round of updates.',
  'The release candidate passed all the integration tests.',
  'I think we should move the launch to next Thursday.',
  'Can you share the latest numbers from the dashboard?',
  'We saw a small spike in latency around noon.',
  'That matches what the customer reported yesterday.',
  'I will follow up with the infrastructure team.',
  'Does anyone have concerns about the migration plan?',
  'The new onboarding flow is much simpler.',
  'We need another review before we merge it.',
  'Let me check the budget and get back to you.',
  'The design team finished the mockups on Friday.',
  'I agree, but we should keep the scope small.',
  'Who is going to own the follow up items?',
  'Our error rate dropped below half a percent.',
  'Could you repeat the last part, please?',
  'The contract renewal is due at the end of the month.',
  'We should write this decision down in the notes.',
  'I have a hard stop in ten minutes.',
  'The survey results came back very positive.',
  'Let us take this offline and sync tomorrow.',
  'Is the staging environment ready for testing?',
  'We can reuse the component from the last project.',
  'That sounds like a good plan to me.',
  'I will send the summary after the call.',
];

export const BACKCHANNEL_PHRASES: readonly string[] = ['Mm-hmm.', 'Right.', 'Yeah.', 'Okay.', 'Sure.', 'Exactly.'];

export const AGENT_PHRASES: readonly string[] = [
  'Thank you for calling, how can I help you today?',
  'Could you please confirm your account number?',
  'I can see the order in our system.',
  'Let me check the delivery status for you.',
  'I have issued a refund to your card.',
  'It should arrive within three to five business days.',
  'Is there anything else I can help you with?',
  'I understand, that must be frustrating.',
  'I will escalate this to our billing team.',
  'Thank you for your patience.',
];

export const CUSTOMER_PHRASES: readonly string[] = [
  'Hi, I am calling about my last invoice.',
  'The package never arrived at my address.',
  'Sure, it is four five seven two one.',
  'I was charged twice for the same order.',
  'That would be great, thank you.',
  'How long will the refund take?',
  'No, that is everything for today.',
  'Can you send me a confirmation by email?',
  'I already tried restarting the device.',
  'Okay, I will wait for the email.',
];

export const CHAT_MESSAGES: readonly string[] = [
  'Here is the link to the document.',
  'Sorry, my audio dropped for a second.',
  '+1 to that',
  'Can someone share the slides after the call?',
  'I will be five minutes late to the next one.',
  'Agreed!',
  'Notes are in the shared folder.',
  'Thanks everyone!',
];

export const PARTICIPANT_NAMES: readonly string[] = [
  'Alice Nguyen',
  'Bob Martins',
  'Carla Rossi',
  'Dev Patel',
  'Emma Schmidt',
  'Farid Haddad',
  'Grace Kim',
  'Hugo Lefevre',
  'Ines Duarte',
  'Jonas Berg',
  'Keiko Tanaka',
  'Liam O Brien',
];
